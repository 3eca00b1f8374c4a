package nfvo

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
)

// fakeAnnouncer refuses the services named in bad, and AnnounceAll as a
// whole if any of them is in its list.
type fakeAnnouncer struct {
	bad       map[string]bool
	all, each int
}

func (f *fakeAnnouncer) Announce(_ context.Context, svc AnnouncedService) error {
	f.each++
	if f.bad[svc.Name] {
		return errors.New("refused")
	}
	return nil
}

func (f *fakeAnnouncer) AnnounceAll(_ context.Context, svcs []AnnouncedService) error {
	f.all++
	for _, s := range svcs {
		if f.bad[s.Name] {
			return errors.New("refused")
		}
	}
	return nil
}

func (f *fakeAnnouncer) Withdraw(context.Context, string) error { return nil }

func TestAnnounceWanted(t *testing.T) {
	want := []AnnouncedService{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name      string
		bad       map[string]bool
		announced []string
		all, each int
	}{
		{"all together", nil, []string{"a", "b", "c"}, 1, 0},
		{"one refused: the others one by one", map[string]bool{"b": true}, []string{"a", "c"}, 1, 3},
		{"all refused", map[string]bool{"a": true, "b": true, "c": true}, nil, 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAnnouncer{bad: tt.bad}
			var got []string
			for _, s := range announceWanted(context.Background(), f, want, log) {
				got = append(got, s.Name)
			}
			if !slices.Equal(got, tt.announced) || f.all != tt.all || f.each != tt.each {
				t.Fatalf("announced %v with %d AnnounceAll and %d Announce, want %v, %d, %d", got, f.all, f.each, tt.announced, tt.all, tt.each)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &fakeAnnouncer{bad: map[string]bool{"a": true}}
	if got := announceWanted(ctx, f, want, log); got != nil || f.each != 0 {
		t.Fatalf("cancelled: announced %v, %d one by one", got, f.each)
	}
}
