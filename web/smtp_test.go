package web_test

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// mailbox is a real SMTP server (emersion/go-smtp) on loopback that keeps
// what it receives, so that tests follow the links in the e-mails.
type mailbox struct {
	Addr string
	mu   sync.Mutex
	msgs []received
	got  chan struct{}
}

type received struct {
	From    string
	To      []string
	Subject string
	Body    string
}

func startMailbox(t testing.TB) *mailbox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &mailbox{Addr: ln.Addr().String(), got: make(chan struct{}, 100)}
	s := smtp.NewServer(m)
	s.Domain = "mail.test"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.MaxMessageBytes = 1 << 20
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return m
}

// NewSession implements smtp.Backend.
func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{box: m}, nil }

type smtpSession struct {
	box  *mailbox
	from string
	to   []string
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

// Data parses the message as a mail reader would: headers, then the body
// decoded from its transfer encoding.
func (s *smtpSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(msg.Body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, received{From: s.from, To: s.to, Subject: subject, Body: string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")))})
	s.box.mu.Unlock()
	s.box.got <- struct{}{}
	return nil
}

// next waits for the next message.
func (m *mailbox) next(t testing.TB) received {
	t.Helper()
	select {
	case <-m.got:
	case <-time.After(20 * time.Second):
		t.Fatal("no e-mail arrived")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	msg := m.msgs[0]
	m.msgs = m.msgs[1:]
	return msg
}

var linkRe = regexp.MustCompile(`https?://\S+`)

// link is the first URL in the message's body.
func (r received) link(t testing.TB) string {
	t.Helper()
	l := linkRe.FindString(r.Body)
	if l == "" {
		t.Fatalf("no link in the e-mail:\n%s", r.Body)
	}
	return l
}
