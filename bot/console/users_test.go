package console

import "testing"

// A console user named by id in the configuration (RENEWBOT_APPROVERS)
// reads by name before anyone switched to them; other ids stay ids.
func TestNameOfIsUserIDBackwards(t *testing.T) {
	for _, name := range []string{"alice", "bob", "carol", "dave", "alexandra", "bob2", "a"} {
		id, err := UserID(name)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := nameOf(id); !ok || got != name {
			t.Errorf("nameOf(%s) = %q, %v; want %q", id, got, ok, name)
		}
	}
	for _, id := range []string{"U0XYZ1234", "W0ABC12", "U012ABCDEF", "U0"} {
		if got, ok := nameOf(id); ok {
			t.Errorf("nameOf(%s) = %q: not a console name's id", id, got)
		}
	}
}
