package storage

import (
	"context"
	"slices"
	"strings"
	"time"
)

// HostSoftware is what a remote server runs, as its NodeInfo says.
type HostSoftware struct {
	Domain string // as deliveries name it (DeliveryHost)
	// Software is NodeInfo's software.name, lower-cased; "" when the server
	// did not say (no NodeInfo, an error).
	Software  string
	Version   string
	CheckedAt time.Time // when it was last asked
}

// HostsSoftware returns what is known of the software of domains, in
// batches of one query per 500; domains never asked are absent.
func (db *DB) HostsSoftware(ctx context.Context, domains []string) (map[string]HostSoftware, error) {
	out := make(map[string]HostSoftware, len(domains))
	domains = slices.Clone(domains)
	for i, d := range domains {
		domains[i] = strings.ToLower(d)
	}
	slices.Sort(domains)
	domains = slices.Compact(domains)
	for chunk := range slices.Chunk(domains, enqueueBatch) {
		var rows []Host
		err := db.Gorm(ctx).Select("domain", "software", "software_version", "software_checked_at").
			Where("domain IN ? AND software_checked_at IS NOT NULL", chunk).Find(&rows).Error
		if err != nil {
			return nil, wrap(err, "software of %d hosts", len(domains))
		}
		for _, r := range rows {
			out[r.Domain] = HostSoftware{Domain: r.Domain, Software: r.Software, Version: r.SoftwareVersion, CheckedAt: r.SoftwareCheckedAt.UTC()}
		}
	}
	return out, nil
}

// PutHostSoftware records what a host runs (or that asking it failed,
// with Software ""), keeping its delivery health.
func (db *DB) PutHostSoftware(ctx context.Context, h HostSoftware) error {
	now := time.Now().UTC()
	err := db.Gorm(ctx).Exec(`INSERT INTO hosts (domain, consecutive_failures, software, software_version, software_checked_at, updated_at)
		VALUES (?, 0, ?, ?, ?, ?)
		ON CONFLICT (domain) DO UPDATE SET software = excluded.software, software_version = excluded.software_version,
			software_checked_at = excluded.software_checked_at, updated_at = excluded.updated_at`,
		strings.ToLower(h.Domain), h.Software, h.Version, h.CheckedAt.UTC(), now).Error
	return wrap(err, "record software of host %q", h.Domain)
}
