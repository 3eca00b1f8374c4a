package control

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestClient(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.h)
	t.Cleanup(srv.Close)
	c := NewClient(srv.URL+"/", srv.Client())
	ctx := context.Background()

	if err := c.Healthy(ctx); err != nil {
		t.Fatalf("Healthy: %v", err)
	}
	if err := c.PutServices(ctx, []Service{web(inst("a", 1), inst("b", 2))}); err != nil {
		t.Fatalf("PutServices: %v", err)
	}
	res, err := c.PostReports(ctx, []Report{
		{Service: "web", Instance: "a", Max: 8, Available: 3, MeasuredAt: time.Now()},
		{Service: "web", Instance: "gone", Max: 8, Available: 3, MeasuredAt: time.Now()},
	})
	if err != nil {
		t.Fatalf("PostReports: %v", err)
	}
	if res.Accepted != 1 || len(res.Rejected) != 1 || res.Rejected[0].Instance != "gone" || !strings.Contains(res.Rejected[0].Error, "gone") {
		t.Fatalf("PostReports: %+v, want a accepted and gone rejected", res)
	}
	views, err := c.Services(ctx)
	if err != nil {
		t.Fatalf("Services: %v", err)
	}
	if len(views) != 1 || views[0].Name != "web" || len(views[0].Instances) != 2 || views[0].Instances[0].Estimate.Free != 3 {
		t.Fatalf("Services: %+v", views)
	}

	// A bad PUT is an *Error with the server's message; nothing changes.
	bad := web(inst("a", 1))
	bad.Instances[0].MAC = "zz"
	err = c.PutServices(ctx, []Service{bad})
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || !strings.Contains(apiErr.Message, "services[0].instances[0].mac") {
		t.Fatalf("bad PutServices: %v, want a 400 *Error naming the field", err)
	}
	if views, _ := c.Services(ctx); len(views) != 1 || len(views[0].Instances) != 2 {
		t.Fatalf("state after bad PUT: %+v", views)
	}

	// nil means "no services", not a missing field.
	if err := c.PutServices(ctx, nil); err != nil {
		t.Fatalf("PutServices(nil): %v", err)
	}
	if views, _ := c.Services(ctx); len(views) != 0 {
		t.Fatalf("after PutServices(nil): %+v", views)
	}
}

func TestClientNonJSONError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream unavailable", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	err := NewClient(srv.URL, nil).Healthy(context.Background())
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadGateway || apiErr.Message != "upstream unavailable" {
		t.Fatalf("Healthy: %v, want a 502 *Error with the body", err)
	}
}
