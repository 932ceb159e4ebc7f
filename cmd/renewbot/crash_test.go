package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/internal/pgtest"
	"github.com/renewbot/renewbot/internal/slackfake"
)

// Crash safety on the real binary: renewbot is built once, run as a child
// process against the test's fakes, killed with SIGKILL at the worst
// moments and started again on the same SQLite file.

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// TestMain removes the binary built for the crash tests, and pgtest's
// private PostgreSQL cluster.
func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// raceBuild reports whether this test binary was built with -race: the
// child is built the same way, so its packages come from the same build
// cache and it is checked as strictly.
func raceBuild() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				return true
			}
		}
	}
	return false
}

// renewbotBinary builds ./cmd/renewbot once per test run.
func renewbotBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real binary; skipped with -short")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "renewbot-crash-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "renewbot")
		args := []string{"build", "-o", binPath}
		if raceBuild() {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// child is renewbot running as a process, driven through a harness whose
// helpers (command, click, message…) talk to it over HTTP.
type child struct {
	*harness
	bin string
	cmd *exec.Cmd
	// exited is closed when the running process has been waited for.
	exited    chan struct{}
	runs      int
	startedAt time.Time
}

// newChild starts the fakes and the binary with the same environment as
// the in-process harness, a reconciler that runs every 200 ms and treats
// a request as interrupted after 1 s.
func newChild(t *testing.T, env map[string]string) *child {
	t.Helper()
	bin := renewbotBinary(t)
	h := newFakes(t)
	h.env["OVH_TIMEOUT"] = "5s"
	h.env["RENEWBOT_STUCK_AFTER"] = "1s"
	h.env["RENEWBOT_SWEEP_EVERY"] = "200ms"
	for k, v := range env {
		h.env[k] = v
	}
	c := &child{harness: h, bin: bin}
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			t.Logf("renewbot's stderr, every run:\n%s", h.logs)
		}
	})
	c.start()
	return c
}

// start runs the binary and waits until it answers /healthz.
func (c *child) start() {
	c.t.Helper()
	c.runs++
	fmt.Fprintf(c.logs, "---- run %d ----\n", c.runs)
	cmd := exec.Command(c.bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = c.logs, c.logs
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.cmd, c.exited, c.startedAt = cmd, make(chan struct{}), time.Now()
	exited := c.exited
	go func() { _ = cmd.Wait(); close(exited) }()
	c.waitHealthy(15*time.Second, func() string {
		select {
		case <-exited:
			return fmt.Sprintf("renewbot exited at start (%v)", cmd.ProcessState)
		default:
			return ""
		}
	})
}

// kill sends SIGKILL and waits for the process to be gone: no deferred
// function, no shutdown, nothing flushed.
func (c *child) kill() {
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Kill()
	<-c.exited
	c.cmd = nil
}

// restart kills the binary and starts it again on the same database.
func (c *child) restart() {
	c.t.Helper()
	c.kill()
	c.start()
}

// payAttempts counts the pay calls OVHcloud received, answered or not.
func (c *child) payAttempts() int { return len(c.ovh.CallsTo("POST", "/me/order/*/pay")) }

// proposeAndChoose runs /renew and clicks Choose for 1 year, and returns
// the message as it was posted and the Choose button clicked.
func (c *child) proposeAndChoose() (slackfake.Message, element) {
	c.t.Helper()
	c.command(alice, "vps-1.example.net")
	m := c.message(1, "Choose")
	choose := c.find(m, "choose", "1 year")
	c.click(alice, m.TS, "choose", choose.Value)
	return m, choose
}

// (a1) SIGKILL while the renew order call is in flight: the request was
// left in ordering. After the restart the reconciler marks it failed,
// saying an unpaid order may exist, and the message says so. Nothing is
// paid and no order is created again.
func TestCrashWhileCreatingTheOrder(t *testing.T) {
	t.Parallel()
	c := newChild(t, nil)
	c.ovh.Inject("POST /service/*/renew", ovhfake.Fault{Hang: true})
	m, choose := c.proposeAndChoose()
	c.eventually("the renew order call", func() bool { return len(c.ovh.CallsTo("POST", "/service/*/renew")) == 1 })
	c.message(1, "Creating the order")
	c.kill()
	c.ovh.ClearFaults()

	c.start()
	m = c.message(1, "The renewal failed", "interrupted while creating the order", "an order may exist on OVHcloud, unpaid", "expires on its own")
	if hasAction(m, "approve") || hasAction(m, "choose") {
		t.Error("a request interrupted while ordering still has buttons")
	}
	// A late click on the old Choose button does not order again.
	c.click(alice, m.TS, "choose", choose.Value)
	c.ephemeral(alice, "failed and is closed")
	settle()
	if n := len(c.ovh.CallsTo("POST", "/service/*/renew")); n != 1 {
		t.Fatalf("%d renew order calls, want exactly 1", n)
	}
	if n := c.payAttempts(); n != 0 {
		t.Fatalf("%d pay calls, want none", n)
	}
}

// (a2) SIGKILL after the order was created and stored, while the message
// update that shows it (with Approve and pay) is in flight: after the
// restart the request is not lost and its message shows the order with
// its buttons, and it can be approved and paid once.
func TestCrashBeforeTheOrderIsShown(t *testing.T) {
	t.Parallel()
	c := newChild(t, nil)
	c.slack.Hang("chat.update", "Approve and pay")
	m, _ := c.proposeAndChoose()
	c.eventually("the message update that shows the order", func() bool {
		for _, u := range c.slack.Calls("chat.update") {
			if strings.Contains(u.Form.Get("blocks"), "Approve and pay") {
				return true
			}
		}
		return false
	})
	if n := len(c.ovh.CallsTo("POST", "/service/*/renew")); n != 1 {
		t.Fatalf("%d renew order calls, want 1", n)
	}
	c.kill()
	c.slack.Heal()
	if got := blockText(c.slack.Messages(channel)[0].Raw); !strings.Contains(got, "Creating the order") {
		t.Fatalf("before the restart the message should still say the order is being created:\n%s", got)
	}

	c.start()
	// The request is not lost: it waits for approval with its order.
	c.command(alice, "status")
	st := c.ephemeral(alice, "123456789")
	if txt := st.Text + blockText(st.Raw); !strings.Contains(strings.ToLower(txt), "approv") {
		t.Fatalf("/renew status after the restart does not show the order waiting for approval:\n%s", txt)
	}
	// The message, whose last update was lost with the process, is
	// redrawn from the store at start.
	m = c.message(1, "Waiting for approval", "123456789", "Approve and pay")
	c.click(bob, m.TS, "approve", c.find(m, "approve", "").Value)
	c.message(1, "Paid", bob)
	if n := c.payAttempts(); n != 1 {
		t.Fatalf("%d pay calls, want exactly 1", n)
	}
	if n := len(c.ovh.CallsTo("POST", "/service/*/renew")); n != 1 {
		t.Fatalf("%d renew order calls, want exactly 1", n)
	}
}

// orderAndHangPay runs the flow to an approval whose pay call hangs, and
// kills the binary once OVHcloud received that call.
func (c *child) orderAndHangPay() (slackfake.Message, element) {
	c.t.Helper()
	c.ovh.Inject("POST /me/order/*/pay", ovhfake.Fault{Hang: true})
	c.proposeAndChoose()
	m := c.message(1, "Approve and pay")
	approve := c.find(m, "approve", "")
	c.click(bob, m.TS, "approve", approve.Value)
	// No message update between the claim and the pay call: the message
	// may still say it waits for approval.
	c.eventually("the pay call", func() bool { return c.payAttempts() == 1 })
	c.kill()
	c.ovh.ClearFaults()
	return m, approve
}

// (b1) SIGKILL during payment, OVHcloud never took the money: after the
// restart the reconciler reads the order status (notPaid), the message
// says the payment did not go through and may be approved again, and a
// new approval pays once.
func TestCrashDuringPaymentNotPaid(t *testing.T) {
	t.Parallel()
	c := newChild(t, nil)
	m, _ := c.orderAndHangPay()
	if o, _ := c.ovh.Order(ovhfake.FirstOrderID); o.Paid() {
		t.Fatal("the fake recorded a payment it never answered")
	}

	c.start()
	m = c.message(1, "The payment failed", "did not go through", "Approve and pay")
	if n := len(c.ovh.CallsTo("GET", "/me/order/*/status")); n < 2 {
		t.Errorf("%d order status reads, want the reconciler's after the one before paying", n)
	}
	if n := c.payAttempts(); n != 1 {
		t.Fatalf("the reconciler paid again: %d pay calls", n)
	}
	c.click(carol, m.TS, "approve", c.find(m, "approve", "").Value)
	c.message(1, "Paid", carol)
	settle()
	if n := c.payAttempts(); n != 2 {
		t.Fatalf("%d pay calls, want 2 (the interrupted one, then one that paid)", n)
	}
	if o, _ := c.ovh.Order(ovhfake.FirstOrderID); !o.Paid() || o.PayAttempts != 1 {
		t.Fatalf("order paid=%v after %d answered pay attempts, want paid once", o.Paid(), o.PayAttempts)
	}
}

// (b2) SIGKILL during payment, OVHcloud took the money (its status moved
// to checking) but the answer never came back: after the restart the
// reconciler reads the order status, the message says paid, and nothing
// is paid again, not even when someone approves again.
func TestCrashDuringPaymentPaid(t *testing.T) {
	t.Parallel()
	c := newChild(t, nil)
	m, approve := c.orderAndHangPay()
	c.ovh.SetOrderStatus(ovhfake.FirstOrderID, "checking")

	c.start()
	m = c.message(1, "Paid", "checking")
	if hasAction(m, "approve") {
		t.Error("a paid request still has the Approve button")
	}
	c.click(carol, m.TS, "approve", approve.Value)
	c.ephemeral(carol, "already paid")
	settle()
	if n := c.payAttempts(); n != 1 {
		t.Fatalf("%d pay calls, want exactly 1: paid twice", n)
	}
}

// (b3) The pay call goes out late (a slow status read before it), OVHcloud
// takes the money but shows it only a while later, and the bot is killed
// before the answer. After the restart the reconciler waits
// RENEWBOT_STUCK_AFTER from the pay call, not from the claim: it finds
// the payment, and nothing is paid twice.
func TestCrashAfterALatePayCallSettlesFromIt(t *testing.T) {
	t.Parallel()
	const stuck = 6 * time.Second
	c := newChild(t, map[string]string{"RENEWBOT_STUCK_AFTER": stuck.String()})
	c.ovh.PaymentVisibleAfter = 5 * time.Second // set before any payment: read under the fake's lock afterwards
	c.proposeAndChoose()
	m := c.message(1, "Approve and pay")
	c.ovh.Inject("GET /me/order/*/status", ovhfake.Fault{Delay: 3 * time.Second, Times: 1})
	c.ovh.Inject("POST /me/order/*/pay", ovhfake.Fault{Processed: true, Hang: true})
	c.click(bob, m.TS, "approve", c.find(m, "approve", "").Value)
	c.eventually("the pay call", func() bool { return c.payAttempts() == 1 })
	c.kill()
	c.ovh.ClearFaults()
	if o, _ := c.ovh.Order(ovhfake.FirstOrderID); !o.Paid() {
		t.Fatal("the fake did not take the payment")
	}

	c.start()
	// Approvers keep trying while the outcome is being settled.
	deadline := time.Now().Add(stuck + 4*time.Second)
	for time.Now().Before(deadline) {
		cur := c.slack.Messages(channel)[0]
		if strings.Contains(blockText(cur.Raw), "Paid") {
			break
		}
		if hasAction(cur, "approve") {
			c.click(carol, cur.TS, "approve", c.find(cur, "approve", "").Value)
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.message(1, "Paid")
	settle()
	if n := c.payAttempts(); n != 1 {
		t.Fatalf("%d pay calls, want exactly 1: the payment shown late was paid again", n)
	}
}
