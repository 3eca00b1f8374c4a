package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// MaxMessageSize is the default largest frame a reader accepts. An UPDATE is
// split to stay below it (see SplitUpdate).
const MaxMessageSize = 1 << 20

// AppendFrame appends m as one frame: its uvarint length, then its encoding.
func AppendFrame(b []byte, m Message) ([]byte, error) {
	if err := validate(m); err != nil {
		return b, fmt.Errorf("marshal %v: %w", m.Type(), err)
	}
	body := bodyLen(m)
	n := envelopeLen(body)
	if n > MaxMessageSize {
		return b, fmt.Errorf("frame %v: %w: %d bytes, max %d", m.Type(), ErrOversize, n, MaxMessageSize)
	}
	b = slices.Grow(b, binary.MaxVarintLen64+n)
	b = binary.AppendUvarint(b, uint64(n))
	return appendEnvelope(b, m, body), nil
}

// WriteFrame writes m as one frame with a single Write call, so that frames
// from concurrent writers never interleave on a stream that serialises
// writes.
func WriteFrame(w io.Writer, m Message) error {
	b, err := AppendFrame(nil, m)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// ByteReader is what ReadFrame reads from; a *bufio.Reader is one.
type ByteReader interface {
	io.Reader
	io.ByteReader
}

// ReadFrame reads and decodes one frame of at most max bytes (MaxMessageSize
// if max <= 0). Its routes' signatures and proofs share the frame's buffer. It returns io.EOF only at a clean frame boundary. After any
// other error the stream is out of sync and must be closed.
func ReadFrame(r ByteReader, max int) (Message, error) {
	if max <= 0 {
		max = MaxMessageSize
	}
	n, err := binary.ReadUvarint(r)
	switch {
	case errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		return nil, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("frame length: %w", ErrTruncated)
	case err != nil:
		return nil, fmt.Errorf("frame length: %w: %v", ErrMalformed, err)
	}
	if n > uint64(max) {
		return nil, fmt.Errorf("frame: %w: %d bytes, max %d", ErrOversize, n, max)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("frame body: %w: %v", ErrTruncated, err)
		}
		return nil, fmt.Errorf("frame body: %w", err)
	}
	// buf is ours alone: the message may keep pieces of it.
	return unmarshal(buf, true)
}

// SplitUpdate splits u into updates whose encodings stay below max bytes
// (MaxMessageSize if max <= 0). Retractions and withdrawals go first, in the
// first update, so that a receiver never holds a stale route longer than
// needed. The parts share u's backing arrays (capped, so appending to a part
// copies); nothing is copied, which matters for a table of 100,000 routes.
func SplitUpdate(u Update, max int) []Update {
	if max <= 0 {
		max = MaxMessageSize
	}
	// Leave room for the envelope: tag, type, tag and body length.
	budget := max - 16
	var out []Update
	cur, size := Update{}, 0
	flush := func() {
		if len(cur.Announce)+len(cur.Withdraw)+len(cur.Retract) > 0 {
			out = append(out, cur)
		}
		cur, size = Update{}, 0
	}
	start := 0
	for i, r := range u.Retract {
		n := RetractionSize(r)
		if size+n > budget {
			flush()
			start = i
		}
		cur.Retract = u.Retract[start : i+1 : i+1]
		size += n
	}
	start = 0
	for i, s := range u.Withdraw {
		n := protowire.SizeTag(2) + protowire.SizeBytes(len(s))
		if size+n > budget {
			flush()
			start = i
		}
		cur.Withdraw = u.Withdraw[start : i+1 : i+1]
		size += n
	}
	start = 0
	for i, r := range u.Announce {
		n := RouteSize(r)
		if size+n > budget {
			flush()
			start = i
		}
		cur.Announce = u.Announce[start : i+1 : i+1]
		size += n
	}
	flush()
	return out
}
