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

// Switching to a user nobody met or configured (a typo: as bbo) says so
// once, with the users the console knows; the sample team, configured
// users and users met before switch silently.
func TestSwitchingToAStrangerSaysSo(t *testing.T) {
	var out syncWriter
	c, err := New(Config{Out: &out, Known: []string{"U0DAVE001", "S0GROUP01"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bob", "@carol", "dave", "bbo", "alice", "bbo"} {
		c.switchUser(name)
	}
	got := out.String()
	want := "You are now @bob (U0BOB0001).\nYou are now @carol (U0CAROL01).\nYou are now @dave (U0DAVE001).\n" +
		"You are now @bbo (U0BBO0001).\n(@bbo is new here: not a user met or configured so far, who are @alice, @bob, @carol, @dave.)\n" +
		"You are now @alice (U0ALICE01).\nYou are now @bbo (U0BBO0001).\n"
	if got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}
