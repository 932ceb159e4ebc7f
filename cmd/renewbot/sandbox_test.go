package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
)

// The sandbox account remembers a bounded number of calls, however many
// the bot makes.
func TestSandboxForgetsItsCalls(t *testing.T) {
	fake := ovhfake.SampleAccount(time.Now())
	client := &http.Client{Transport: forgetful(fake)}
	for range 3 * sandboxForgetEvery {
		req, _ := http.NewRequest(http.MethodGet, ovhfake.SandboxURL+"/services", http.NoBody)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n := len(fake.Calls()); n >= sandboxForgetEvery {
		t.Fatalf("the sandbox remembers %d calls, want fewer than %d", n, sandboxForgetEvery)
	}
}
