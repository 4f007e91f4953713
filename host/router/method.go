package router

// MethodAny is the route method that matches every request method.
const MethodAny = "ANY"

// The methods a route may name besides ANY, each with a slot in a leaf, in the
// order Allowed reports them: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS.
const (
	numMethods = 7
	anySlot    = numMethods // the ANY routes' slot in a leaf
	numSlots   = numMethods + 1
)

// methodSlot returns the leaf slot of a request method, or -1 for a method no
// route can name (such a request matches only ANY routes). Methods are case
// sensitive, as in HTTP.
func methodSlot(m string) int {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "PATCH":
		return 4
	case "DELETE":
		return 5
	case "OPTIONS":
		return 6
	}
	return -1
}

// methodName is the inverse of methodSlot.
func methodName(slot int) string {
	switch slot {
	case 0:
		return "GET"
	case 1:
		return "HEAD"
	case 2:
		return "POST"
	case 3:
		return "PUT"
	case 4:
		return "PATCH"
	case 5:
		return "DELETE"
	case 6:
		return "OPTIONS"
	case anySlot:
		return MethodAny
	}
	return ""
}
