package policy

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/commonplace/commonplace/storage"
)

// MastodonCSVHeader is the first line of Mastodon's domain-block export
// (Moderation > Federation > Export), which its import also reads.
const MastodonCSVHeader = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"

var csvColumns = []string{"domain", "severity", "reject_media", "reject_reports", "public_comment", "obfuscate"}

// LineError is an invalid line of an imported file.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// ImportError lists every invalid line; nothing was applied.
type ImportError struct{ Lines []LineError }

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d invalid line(s), nothing imported:", len(e.Lines))
	for i, l := range e.Lines {
		if i == 50 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Lines)-50)
			break
		}
		b.WriteString("\n  " + l.Error())
	}
	return b.String()
}

func (e *ImportError) Unwrap() error { return ErrInvalid }

// Entry is one parsed line: a block (Block set) or an allow.
type Entry struct {
	Line    int
	Block   *BlockInput
	Allow   string
	Comment string
}

// ParseBlocksCSV reads Mastodon's domain-block CSV. The header is
// optional and may name columns with or without '#'; columns after the
// domain may be missing. Severity suspend, silence (= limit), limit, or
// noop (Mastodon's "no restriction", skipped). Every invalid line is
// reported.
func ParseBlocksCSV(r io.Reader) ([]Entry, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	cols := csvColumns
	var (
		out  []Entry
		bad  []LineError
		line int
	)
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, LineError{pe.Line, pe.Err})
				if len(bad) > 1000 {
					break
				}
				continue
			}
			return nil, err
		}
		line, _ = cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if first && strings.HasPrefix(strings.TrimSpace(rec[0]), "#") || first && strings.EqualFold(strings.TrimSpace(rec[0]), "domain") {
			cols = make([]string, len(rec))
			for i, c := range rec {
				cols[i] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(c), "#"))
			}
			if cols[0] != "domain" {
				bad = append(bad, LineError{line, fmt.Errorf("the first column must be #domain, not %q", rec[0])})
			}
			continue
		}
		e, skip, err := parseBlockRecord(cols, rec)
		if err != nil {
			bad = append(bad, LineError{line, err})
			continue
		}
		if skip {
			continue
		}
		e.Line = line
		out = append(out, e)
	}
	if len(bad) > 0 {
		return nil, &ImportError{bad}
	}
	return out, nil
}

func parseBlockRecord(cols, rec []string) (e Entry, skip bool, err error) {
	if len(rec) > len(cols) {
		return e, false, fmt.Errorf("%d fields, the header has %d", len(rec), len(cols))
	}
	in := &BlockInput{}
	for i, v := range rec {
		v = strings.TrimSpace(v)
		switch cols[i] {
		case "domain":
			d, err := Normalize(v)
			if err != nil {
				return e, false, err
			}
			in.Domain = d
		case "severity":
			if strings.EqualFold(v, "noop") {
				skip = true
				continue
			}
			if in.Severity, err = ParseSeverity(v); err != nil {
				return e, false, err
			}
		case "reject_media", "reject_reports", "obfuscate":
			b := false
			if v != "" {
				if b, err = strconv.ParseBool(v); err != nil {
					return e, false, fmt.Errorf("%s must be true or false, not %q", cols[i], v)
				}
			}
			switch cols[i] {
			case "reject_media":
				in.RejectMedia = b
			case "reject_reports":
				in.RejectReports = b
			default:
				in.Obfuscate = b
			}
		case "public_comment":
			if err := checkText("public comment", v); err != nil {
				return e, false, err
			}
			in.PublicComment = v
		case "private_comment", "reason":
			in.Reason = v
		}
	}
	if in.Domain == "" {
		return e, false, errors.New("no domain")
	}
	if in.Severity == "" {
		in.Severity = storage.SeveritySuspend
	}
	e.Block = in
	return e, skip, nil
}

// ParseDomainList reads a plain list of domains, one a line, for allows.
// Blank lines and lines starting with '#' are skipped; text after the
// domain (separated by a space, tab or comma) is its comment.
func ParseDomainList(r io.Reader) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var (
		out []Entry
		bad []LineError
	)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		domain, comment := text, ""
		if i := strings.IndexAny(text, " \t,"); i >= 0 {
			domain, comment = text[:i], strings.TrimSpace(text[i+1:])
		}
		d, err := Normalize(domain)
		if err == nil {
			err = checkText("comment", comment)
		}
		if err != nil {
			bad = append(bad, LineError{line, err})
			continue
		}
		out = append(out, Entry{Line: line, Allow: d, Comment: comment})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return nil, &ImportError{bad}
	}
	return out, nil
}

// ImportResult counts what an import did.
type ImportResult struct {
	Added, Changed, Skipped int
	Effects
}

// Import applies parsed entries in one transaction: all or nothing. A
// domain that appears twice keeps its last line; an entry identical to
// the stored rule is skipped. progress, if set, is called as entries are
// applied.
func (p *Policy) Import(ctx context.Context, by string, entries []Entry, progress func(done, total int)) (ImportResult, error) {
	var res ImportResult
	rules := make([]storage.DomainRule, 0, len(entries))
	var bad []LineError
	for _, e := range entries {
		var (
			r   storage.DomainRule
			err error
		)
		if e.Block != nil {
			r, err = p.blockRule(*e.Block, by)
		} else {
			r, err = p.allowRule(e.Allow, e.Comment, by)
		}
		if err != nil {
			bad = append(bad, LineError{e.Line, err})
			continue
		}
		rules = append(rules, r)
	}
	if len(bad) > 0 {
		return res, &ImportError{bad}
	}
	eff, err := p.change(ctx, by, func(tx *storage.DB) error {
		res = ImportResult{}
		var audit []storage.PolicyAudit
		for i := range rules {
			created, changed, err := tx.PutDomainRule(ctx, &rules[i])
			if err != nil {
				return fmt.Errorf("line %d: %w", entries[i].Line, err)
			}
			switch {
			case created:
				res.Added++
			case changed:
				res.Changed++
			default:
				res.Skipped++
			}
			if changed {
				a := ruleAudit(by, rules[i], created)
				a.Detail = "import: " + a.Detail
				audit = append(audit, a)
			}
			if progress != nil && ((i+1)%100 == 0 || i+1 == len(rules)) {
				progress(i+1, len(rules))
			}
		}
		audit = append(audit, storage.PolicyAudit{Actor: by, Action: ActionImport,
			Detail: fmt.Sprintf("%d added, %d changed, %d unchanged", res.Added, res.Changed, res.Skipped)})
		return tx.AddAudit(ctx, audit...)
	})
	res.Effects = eff
	return res, err
}

// WriteBlocksCSV writes blocks in Mastodon's CSV format.
func WriteBlocksCSV(w io.Writer, rules []storage.DomainRule) error {
	cw := csv.NewWriter(w)
	if _, err := io.WriteString(w, MastodonCSVHeader+"\n"); err != nil {
		return err
	}
	for _, r := range rules {
		if r.Kind != storage.RuleBlock {
			continue
		}
		sev := "suspend"
		if r.Severity == storage.SeverityLimit {
			sev = "silence" // Mastodon's name, so its import reads it
		}
		if err := cw.Write([]string{r.Domain, sev, strconv.FormatBool(r.RejectMedia), strconv.FormatBool(r.RejectReports),
			r.PublicComment, strconv.FormatBool(r.Obfuscate)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteDomainList writes allows as a plain list, one domain a line.
func WriteDomainList(w io.Writer, rules []storage.DomainRule) error {
	bw := bufio.NewWriter(w)
	for _, r := range rules {
		if r.Kind != storage.RuleAllow {
			continue
		}
		bw.WriteString(r.Domain)
		if r.PublicComment != "" {
			bw.WriteString(" " + strings.ReplaceAll(r.PublicComment, "\n", " "))
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
