package instance

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/commonplace/commonplace/federation/delivery"
	"github.com/commonplace/commonplace/storage"
)

const (
	// scrapeTimeout bounds the queries one scrape runs.
	scrapeTimeout = 5 * time.Second
	// cacheFor is how long one scrape's database figures are served again,
	// so that scrapes by several Prometheus servers (or a misconfigured
	// one) do not become a flood of aggregate queries.
	cacheFor = 5 * time.Second
	// maxHostSeries bounds the per-host series: the hosts with the most
	// failures in a row. A fan-out to thousands of dead servers must not
	// become thousands of series.
	maxHostSeries = 50
)

// opsCollector reports the state of the queues, failing hosts and
// sessions, read from the database at most every cacheFor, and this process's
// delivery outcomes. The database figures are the instance's (every
// replica reports the same); the outcomes are this replica's.
type opsCollector struct {
	db     *storage.DB
	worker *delivery.Worker
	// hideHosts reports whether host names must stay out of the metrics:
	// in allowlist mode who this instance federates with is private, and
	// metrics end up in dashboards more people read.
	hideHosts func(context.Context) bool
	now       func() time.Time

	mu         sync.Mutex
	cachedAt   time.Time
	cachedHide bool
	cached     []prometheus.Metric

	queueDepth, queueDue, queueAge, hostFailures, sessions, outcomes, scrapeErr *prometheus.Desc
}

func newOpsCollector(db *storage.DB, worker *delivery.Worker, hideHosts func(context.Context) bool) *opsCollector {
	queue := []string{"queue"}
	return &opsCollector{
		db: db, worker: worker, hideHosts: hideHosts, now: time.Now,
		queueDepth: prometheus.NewDesc("commonplace_queue_pending",
			"Pending rows of the inbound (received activities) and delivery (outbound) queues.", queue, nil),
		queueDue: prometheus.NewDesc("commonplace_queue_due",
			"Pending rows whose time has come (not waiting for a retry).", queue, nil),
		queueAge: prometheus.NewDesc("commonplace_queue_oldest_age_seconds",
			"Age of the oldest pending row of the queue; 0 when it is empty.", queue, nil),
		hostFailures: prometheus.NewDesc("commonplace_delivery_host_consecutive_failures",
			"Failed deliveries in a row to a remote host, for the most failing hosts (none in allowlist mode).", []string{"host"}, nil),
		sessions: prometheus.NewDesc("commonplace_web_sessions_active",
			"Signed-in web sessions that have not expired.", nil, nil),
		outcomes: prometheus.NewDesc("commonplace_deliveries_total",
			"Delivery attempts of this process by outcome.", []string{"outcome"}, nil),
		scrapeErr: prometheus.NewDesc("commonplace_metrics_scrape_errors",
			"Database reads that failed during this scrape.", nil, nil),
	}
}

func (c *opsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.queueDepth, c.queueDue, c.queueAge, c.hostFailures, c.sessions, c.outcomes, c.scrapeErr} {
		ch <- d
	}
}

func (c *opsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.dbMetrics() {
		ch <- m
	}
	if c.worker != nil {
		s := c.worker.Stats()
		for outcome, n := range map[string]int64{"delivered": s.Delivered, "retried": s.Retried, "failed": s.Failed, "dropped": s.Dropped} {
			ch <- prometheus.MustNewConstMetric(c.outcomes, prometheus.CounterValue, float64(n), outcome)
		}
	}
}

// dbMetrics reads the database's figures, or returns those read less than
// cacheFor ago. Scrapes wait for one another rather than query together.
func (c *opsCollector) dbMetrics() []prometheus.Metric {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	// Asked every time, so that switching to allowlist mode hides the
	// host names at once.
	hide := c.hideHosts(ctx)
	if c.cached != nil && hide == c.cachedHide && now.Sub(c.cachedAt) < cacheFor && !now.Before(c.cachedAt) {
		return c.cached
	}
	var out []prometheus.Metric
	failed := 0
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	if st, err := c.db.QueueStats(ctx, now); err != nil {
		failed++
	} else {
		for name, q := range map[string]storage.QueueDepth{"inbound": st.Inbound, "delivery": st.Delivery} {
			gauge(c.queueDepth, float64(q.Pending), name)
			gauge(c.queueDue, float64(q.Due), name)
			age := 0.0
			if !q.Oldest.IsZero() {
				age = max(0, now.Sub(q.Oldest).Seconds())
			}
			gauge(c.queueAge, age, name)
		}
	}
	if !hide {
		if hosts, err := c.db.FailingHosts(ctx, maxHostSeries); err != nil {
			failed++
		} else {
			for _, h := range hosts {
				gauge(c.hostFailures, float64(h.ConsecutiveFailures), h.Domain)
			}
		}
	}
	if n, err := c.db.ActiveSessions(ctx, now); err != nil {
		failed++
	} else {
		gauge(c.sessions, float64(n))
	}
	gauge(c.scrapeErr, float64(failed))
	c.cached, c.cachedAt, c.cachedHide = out, now, hide
	return out
}
