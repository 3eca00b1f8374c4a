package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// request is the demo's client, run inside a site's network namespace: it
// GETs each URL n times and prints the path each answer took.
func request(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("request", flag.ContinueOnError)
	n := fs.Int("n", 1, "requests per URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, url := range fs.Args() {
		count := *n
		if strings.HasSuffix(url, "/admin") {
			count = 1
		}
		for i := range count {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			start := time.Now()
			resp, err := client.Do(req)
			took := time.Since(start)
			if err != nil {
				fmt.Fprintf(out, "  GET %s → no answer (%v)\n", url, shortErr(err))
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			trace := strings.ReplaceAll(resp.Header.Get("X-Stitch-Trace"), ",", " → ")
			fmt.Fprintf(out, "  #%d GET %s → %d in %s via %s%s\n", i+1, url, resp.StatusCode,
				took.Round(100*time.Microsecond), trace, visits(body))
		}
	}
	return nil
}

func visits(body []byte) string {
	var v struct {
		Backend struct {
			Visits int `json:"visits"`
		} `json:"backend"`
	}
	if json.Unmarshal(body, &v) != nil || v.Backend.Visits == 0 {
		return ""
	}
	return fmt.Sprintf(" (visit %d)", v.Backend.Visits)
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}
