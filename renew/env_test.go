package renew_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/fakeclock"
	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/renew"
	"github.com/renewbot/renewbot/renew/ovhcloud"
	"github.com/renewbot/renewbot/renew/sqlstore"
)

// ovhEnv is a Renewer on the sample account and a SQLite store, both
// on one manual clock.
type ovhEnv struct {
	rn   *renew.Renewer
	fake *ovhfake.Server
	clk  *fakeclock.Clock
	st   *sqlstore.Store
}

var ovhT0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func newOVHEnv(t *testing.T) *ovhEnv {
	t.Helper()
	clk := fakeclock.New(ovhT0)
	fake := ovhfake.SampleAccount(ovhT0)
	fake.Now = clk.Now
	base := fake.Start()
	t.Cleanup(fake.Close)
	c, err := ovhcloud.New(ovhcloud.Config{Endpoint: base, AccessToken: "tok", Timeout: 5 * time.Second, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "r.db"), sqlstore.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rn := &renew.Renewer{OVH: c, Store: st, Policy: &renew.Policy{}, Now: st.Now,
		FollowFor: 4 * time.Millisecond, FollowEvery: time.Millisecond, StuckAfter: time.Minute}
	return &ovhEnv{rn: rn, fake: fake, clk: clk, st: st}
}
