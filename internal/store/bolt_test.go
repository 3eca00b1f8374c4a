package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

type rec struct {
	Name string
	N    int
}

func TestBoltRoundTripAndPrefix(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	err = s.Update(ctx, func(tx Tx) error {
		for i, k := range []string{"a/1", "a/2", "b/1"} {
			if err := PutJSON(tx, "recs", k, rec{Name: k, N: i}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx Tx) error {
		got, err := ListJSON[rec](tx, "recs", "a/")
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0].Name != "a/1" || got[1].N != 1 {
			t.Errorf("prefix listing = %+v", got)
		}
		if _, err := GetJSON[rec](tx, "recs", "zz"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing key: err = %v, want ErrNotFound", err)
		}
		if _, err := GetJSON[rec](tx, "nobucket", "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing bucket: err = %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBoltUpdateRollsBackOnError(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	boom := errors.New("boom")
	err = s.Update(ctx, func(tx Tx) error {
		if err := tx.Put("recs", "k", []byte("v")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	_ = s.View(ctx, func(tx Tx) error {
		if _, err := tx.Get("recs", "k"); !errors.Is(err, ErrNotFound) {
			t.Errorf("write of a failed transaction is visible: %v", err)
		}
		return nil
	})
}

func TestBoltForEachStopsEarly(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_ = s.Update(ctx, func(tx Tx) error {
		for _, k := range []string{"1", "2", "3"} {
			_ = tx.Put("b", k, []byte(k))
		}
		return nil
	})
	n := 0
	err = s.View(ctx, func(tx Tx) error {
		return tx.ForEach("b", "", func(string, []byte) error {
			n++
			if n == 2 {
				return ErrStop
			}
			return nil
		})
	})
	if err != nil || n != 2 {
		t.Fatalf("n = %d, err = %v; want 2, nil", n, err)
	}
}

func TestOpenIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s2, err := Open(path); err == nil {
		s2.Close()
		t.Fatal("second Open of the same file succeeded; two daemons could share a store")
	}
}
