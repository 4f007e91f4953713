package wasm

// Interruption reports how calls into p are stopped at their deadline
// ("flag", "close-on-context-done" or "none") and whether its module was
// rewritten by package interrupt.
func Interruption(p *Plugin) (string, bool) { return p.interruption.String(), p.instrumented }

// FunctionInterruption is Interruption for a function backend.
func FunctionInterruption(f *Function) (string, bool) { return Interruption(f.p) }
