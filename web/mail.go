package web

import (
	"context"
	"fmt"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/commonplace/commonplace/config"
)

// mailer sends the e-mails of accounts (confirmation and reset links)
// through the admin's SMTP server with go-mail. Without SMTP settings the
// web has no mailer: sign-ups need no confirmation and only an admin can
// make a reset link (commonplace account reset-link NAME).
type mailer struct {
	cfg config.Config
}

// mailTimeout bounds one message's delivery to the SMTP server, so that a
// form never hangs on a dead mail server.
const mailTimeout = 15 * time.Second

func newMailer(cfg config.Config) *mailer {
	if cfg.SMTPHost == "" {
		return nil
	}
	return &mailer{cfg: cfg}
}

// Send sends a plain-text message to one address.
func (m *mailer) Send(ctx context.Context, to, subject, body string) error {
	opts := []mail.Option{mail.WithPort(m.cfg.SMTPPort), mail.WithTimeout(mailTimeout)}
	switch m.cfg.SMTPTLS {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if m.cfg.SMTPUser != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(m.cfg.SMTPUser), mail.WithPassword(m.cfg.SMTPPassword))
	}
	client, err := mail.NewClient(m.cfg.SMTPHost, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	msg := mail.NewMsg()
	if err := msg.From(m.cfg.SMTPFrom); err != nil {
		return fmt.Errorf("sender %q: %w", m.cfg.SMTPFrom, err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	msg.Subject(subject)
	msg.SetBodyString(mail.TypeTextPlain, body)
	ctx, cancel := context.WithTimeout(ctx, mailTimeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send mail: %w", err)
	}
	return nil
}
