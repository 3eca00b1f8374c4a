package xdp

import (
	"encoding/binary"
	"math/bits"
)

const (
	jhashInitval  = 0xdeadbeef
	flowHashSeed  = 0x5717c4
	flowHashWords = 9
)

// FlowHash is the router's flow hash, bit for bit: the Linux jhash2 over
// nine 32-bit words — the source address (16 bytes, IPv4 as ::ffff:a.b.c.d,
// as four big-endian words), the destination address likewise, and
// SrcPort<<16|DstPort — with initval 0x5717c4 ^ Proto. A new flow goes to
// table slot FlowHash(t) % RingSize. The userspace path must use it to
// decide as the data plane does.
func FlowHash(t FiveTuple) uint32 {
	s, d := t.Src.As16(), t.Dst.As16()
	var k [flowHashWords]uint32
	for i := 0; i < 4; i++ {
		k[i] = binary.BigEndian.Uint32(s[4*i:])
		k[4+i] = binary.BigEndian.Uint32(d[4*i:])
	}
	k[8] = uint32(t.SrcPort)<<16 | uint32(t.DstPort)
	return jhash2(k[:], flowHashSeed^uint32(t.Proto))
}

// Slot is the Maglev table slot of a new flow.
func Slot(t FiveTuple) uint32 { return FlowHash(t) % RingSize }

func jhash2(k []uint32, initval uint32) uint32 {
	a := jhashInitval + uint32(len(k))<<2 + initval
	b, c := a, a
	for len(k) > 3 {
		a += k[0]
		b += k[1]
		c += k[2]
		a, b, c = mix(a, b, c)
		k = k[3:]
	}
	switch len(k) {
	case 3:
		c += k[2]
		fallthrough
	case 2:
		b += k[1]
		fallthrough
	case 1:
		a += k[0]
		a, b, c = final(a, b, c)
	}
	return c
}

func mix(a, b, c uint32) (uint32, uint32, uint32) {
	a -= c
	a ^= bits.RotateLeft32(c, 4)
	c += b
	b -= a
	b ^= bits.RotateLeft32(a, 6)
	a += c
	c -= b
	c ^= bits.RotateLeft32(b, 8)
	b += a
	a -= c
	a ^= bits.RotateLeft32(c, 16)
	c += b
	b -= a
	b ^= bits.RotateLeft32(a, 19)
	a += c
	c -= b
	c ^= bits.RotateLeft32(b, 4)
	b += a
	return a, b, c
}

func final(a, b, c uint32) (uint32, uint32, uint32) {
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return a, b, c
}
