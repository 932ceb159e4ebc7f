// Package metrics exposes renewbot's Prometheus metrics: Slack requests and
// their ack latency, OVHcloud calls by route pattern and status, requests
// by state, and payments. The bot and the OVHcloud adapter report through
// small hooks; only this package knows Prometheus. A scrape reads nothing
// but memory: requests by state are counted in the store in the
// background (RefreshStates), never by a scrape.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/renewbot/renewbot/renew"
)

// Metrics holds the collectors, registered on their own registry so tests
// and several instances in one process never collide.
type Metrics struct {
	reg *prometheus.Registry

	slackRequests *prometheus.CounterVec
	ackSeconds    *prometheus.HistogramVec
	ovhCalls      *prometheus.CounterVec
	ovhSeconds    *prometheus.HistogramVec
	payments      *prometheus.CounterVec
	paid          *prometheus.CounterVec
	busy          prometheus.Counter
	requests      *prometheus.GaugeVec

	mu     sync.Mutex
	states map[renew.State]bool // every state ever counted

	budgetOnce sync.Once
	budgetLeft prometheus.Gauge
}

// StateCounter counts stored requests by state.
type StateCounter func(ctx context.Context) (map[renew.State]int, error)

// New registers renewbot's metrics, the Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		slackRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "renewbot_slack_requests_total",
			Help: "Requests from Slack by kind (command, interaction) and outcome (ok, unauthorized, bad_request, too_large, busy).",
		}, []string{"kind", "outcome"}),
		ackSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "renewbot_slack_ack_seconds",
			Help:    "Time to acknowledge a Slack request; Slack gives up after 3 s.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2, 3},
		}, []string{"kind"}),
		ovhCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "renewbot_ovh_calls_total",
			Help: "OVHcloud API calls (each attempt) by method, route pattern and HTTP status (0: no answer).",
		}, []string{"method", "route", "status"}),
		ovhSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "renewbot_ovh_call_seconds",
			Help:    "OVHcloud API call latency by method and route pattern.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 10, 20},
		}, []string{"method", "route"}),
		payments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "renewbot_payments_total",
			Help: "Orders paid, by currency.",
		}, []string{"currency"}),
		paid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "renewbot_payments_amount_total",
			Help: "Amount paid with tax, in the currency's units.",
		}, []string{"currency"}),
		busy: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "renewbot_busy_total",
			Help: "Commands and clicks refused because the work queue was full.",
		}),
		requests: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "renewbot_requests",
			Help: "Stored renewal requests by state, as last counted in the background.",
		}, []string{"state"}),
		states: map[renew.State]bool{},
	}
	m.reg.MustRegister(m.slackRequests, m.ackSeconds, m.ovhCalls, m.ovhSeconds, m.payments, m.paid, m.busy, m.requests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// RefreshStates counts the stored requests by state with count and sets
// renewbot_requests; a state counted before and absent now reads 0. On
// an error the last counts stay.
func (m *Metrics) RefreshStates(ctx context.Context, count StateCounter) error {
	counts, err := count(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for st := range counts {
		m.states[st] = true
	}
	for st := range m.states {
		m.requests.WithLabelValues(string(st)).Set(float64(counts[st]))
	}
	return nil
}

// BudgetRemaining sets renewbot_budget_remaining: what the monthly
// budget still allows this month, with tax, in micro-cents. The gauge is
// registered at its first value, so a bot without a budget exposes none.
// It is set in the background: a scrape never reads the database for it.
func (m *Metrics) BudgetRemaining(ucents int64) {
	m.budgetOnce.Do(func() {
		m.budgetLeft = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "renewbot_budget_remaining",
			Help: "What RENEWBOT_MONTHLY_BUDGET still allows this month, with tax, in the account's currency's units; refreshed at each sweep.",
		})
		m.reg.MustRegister(m.budgetLeft)
	})
	m.budgetLeft.Set(float64(ucents) / renew.UcentsPerUnit)
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// SlackRequest records one request from Slack and how long its ack took.
func (m *Metrics) SlackRequest(kind, outcome string, d time.Duration) {
	m.slackRequests.WithLabelValues(kind, outcome).Inc()
	m.ackSeconds.WithLabelValues(kind).Observe(d.Seconds())
}

// Busy records a command or click refused because the queue was full.
func (m *Metrics) Busy() { m.busy.Inc() }

// OVHCall records one OVHcloud call attempt; it fits
// ovhcloud.Config.Observe.
func (m *Metrics) OVHCall(method, route string, status int, d time.Duration) {
	m.ovhCalls.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.ovhSeconds.WithLabelValues(method, route).Observe(d.Seconds())
}

// Payment records a paid order.
func (m *Metrics) Payment(amount renew.Money) {
	cur := amount.Currency
	if cur == "" {
		cur = "unknown"
	}
	m.payments.WithLabelValues(cur).Inc()
	m.paid.WithLabelValues(cur).Add(float64(amount.Ucents) / renew.UcentsPerUnit)
}
