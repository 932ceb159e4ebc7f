// Package metrics exposes renewbot's Prometheus metrics: Slack requests and
// their ack latency, OVHcloud calls by route pattern and status, requests
// by state, and payments. The bot and the OVHcloud adapter report through
// small hooks; only this package knows Prometheus.
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

	budgetOnce sync.Once
	budgetLeft prometheus.Gauge
}

// StateCounter counts stored requests by state, read at each scrape.
type StateCounter func(ctx context.Context) (map[renew.State]int, error)

// New registers renewbot's metrics, the Go runtime's and the process's.
// states, when not nil, is read at each scrape for renewbot_requests (it
// can also be given later with CountStates).
func New(states StateCounter) *Metrics {
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
	}
	m.reg.MustRegister(m.slackRequests, m.ackSeconds, m.ovhCalls, m.ovhSeconds, m.payments, m.paid, m.busy,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if states != nil {
		m.CountStates(states)
	}
	return m
}

// CountStates adds renewbot_requests, read with states at each scrape.
func (m *Metrics) CountStates(states StateCounter) {
	m.reg.MustRegister(&stateCollector{count: states, desc: prometheus.NewDesc(
		"renewbot_requests", "Stored renewal requests by state.", []string{"state"}, nil)})
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

type stateCollector struct {
	count StateCounter
	desc  *prometheus.Desc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), string(state))
	}
}
