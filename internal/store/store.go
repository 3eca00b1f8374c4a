// Package store is the small persistence interface the orchestrator writes
// its desired state, records and operations to. The embedded default is
// bbolt (Open); an etcd-backed store can implement the same interface.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotFound is returned by Tx.Get for a missing key.
var ErrNotFound = errors.New("store: not found")

// Store runs transactions. Update transactions are serialized and atomic.
type Store interface {
	View(ctx context.Context, fn func(Tx) error) error
	Update(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx reads and writes keys grouped in buckets. Values returned by Get and
// ForEach are valid only inside the transaction.
type Tx interface {
	Get(bucket, key string) ([]byte, error)
	Put(bucket, key string, value []byte) error
	Delete(bucket, key string) error
	// ForEach visits keys with the given prefix in key order; stop early by
	// returning ErrStop.
	ForEach(bucket, prefix string, fn func(key string, value []byte) error) error
}

// ErrStop ends a ForEach early without error.
var ErrStop = errors.New("store: stop iteration")

// GetJSON decodes the value at bucket/key into a new T.
func GetJSON[T any](tx Tx, bucket, key string) (T, error) {
	var v T
	b, err := tx.Get(bucket, key)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("store: decode %s/%s: %w", bucket, key, err)
	}
	return v, nil
}

// PutJSON encodes v and stores it at bucket/key.
func PutJSON(tx Tx, bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %s/%s: %w", bucket, key, err)
	}
	return tx.Put(bucket, key, b)
}

// ListJSON decodes every value under prefix in key order.
func ListJSON[T any](tx Tx, bucket, prefix string) ([]T, error) {
	var out []T
	err := tx.ForEach(bucket, prefix, func(key string, b []byte) error {
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("store: decode %s/%s: %w", bucket, key, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}
