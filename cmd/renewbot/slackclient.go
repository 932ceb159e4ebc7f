package main

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxSlackAnswer bounds what is read of one Slack Web API answer. Slack's
// are small (a page of conversations.members is a few KiB); a proxy or a
// fake answering without end must not fill the heap.
const maxSlackAnswer = 4 << 20

// slackHTTPClient is the HTTP client of the Slack Web API: a timeout, and
// answers larger than maxSlackAnswer fail instead of being read whole.
func slackHTTPClient() *http.Client {
	return &http.Client{Timeout: 15 * time.Second, Transport: limitBodies{next: http.DefaultTransport, limit: maxSlackAnswer}}
}

// limitBodies is a RoundTripper whose answers' bodies fail once they
// pass limit bytes.
type limitBodies struct {
	next  http.RoundTripper
	limit int64
}

func (l limitBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: l.limit, limit: l.limit}
	return resp, nil
}

// limitedBody reads up to left more bytes, then fails with
// errTooLarge: unlike io.LimitReader, which would end the body there and
// let a decoder take a truncated answer for a short one.
type limitedBody struct {
	io.ReadCloser
	left, limit int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.tooLarge()
	}
	// One byte more than is left tells a body of exactly the limit
	// from a longer one.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) > b.left {
		n, b.left = int(b.left), -1
		return n, b.tooLarge()
	}
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) tooLarge() error {
	return fmt.Errorf("Slack's answer is larger than %d MiB", b.limit>>20)
}
