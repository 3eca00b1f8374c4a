package telemetry

import (
	"fmt"
	"math"
	"strconv"
)

// Kind is the type of a leaf value. The set mirrors gNMI's scalar
// TypedValues so that conversion never loses information.
type Kind uint8

// The kinds a leaf can hold.
const (
	KindInvalid Kind = iota
	KindInt
	KindUint
	KindFloat
	KindString
	KindBool
)

func (k Kind) String() string {
	switch k {
	case KindInt:
		return "int"
	case KindUint:
		return "uint"
	case KindFloat:
		return "float"
	case KindString:
		return "string"
	case KindBool:
		return "bool"
	}
	return "invalid"
}

// Value is an immutable typed scalar. It is comparable with ==, which is how
// the tree decides whether a Set changed anything.
type Value struct {
	kind Kind
	bits uint64 // int64, uint64, float64 bits or 0/1 for bool
	str  string
}

// Int, Uint, Float, String and Bool build Values.
func Int(v int64) Value     { return Value{kind: KindInt, bits: uint64(v)} }
func Uint(v uint64) Value   { return Value{kind: KindUint, bits: v} }
func Float(v float64) Value { return Value{kind: KindFloat, bits: math.Float64bits(v)} }
func String(v string) Value { return Value{kind: KindString, str: v} }
func Bool(v bool) Value {
	if v {
		return Value{kind: KindBool, bits: 1}
	}
	return Value{kind: KindBool}
}

// ValueOf converts a Go scalar (any int, uint, float, string or bool type, or
// a Value) into a Value.
func ValueOf(v any) (Value, error) {
	switch x := v.(type) {
	case Value:
		if x.kind == KindInvalid {
			return Value{}, fmt.Errorf("zero Value")
		}
		return x, nil
	case int:
		return Int(int64(x)), nil
	case int8:
		return Int(int64(x)), nil
	case int16:
		return Int(int64(x)), nil
	case int32:
		return Int(int64(x)), nil
	case int64:
		return Int(x), nil
	case uint:
		return Uint(uint64(x)), nil
	case uint8:
		return Uint(uint64(x)), nil
	case uint16:
		return Uint(uint64(x)), nil
	case uint32:
		return Uint(uint64(x)), nil
	case uint64:
		return Uint(x), nil
	case float32:
		return Float(float64(x)), nil
	case float64:
		return Float(x), nil
	case string:
		return String(x), nil
	case bool:
		return Bool(x), nil
	}
	return Value{}, fmt.Errorf("unsupported value type %T", v)
}

// Kind reports the value's type.
func (v Value) Kind() Kind { return v.kind }

// IntValue, UintValue, FloatValue, StringValue and BoolValue return the
// payload; each is meaningful only for its own Kind.
func (v Value) IntValue() int64     { return int64(v.bits) }
func (v Value) UintValue() uint64   { return v.bits }
func (v Value) FloatValue() float64 { return math.Float64frombits(v.bits) }
func (v Value) StringValue() string { return v.str }
func (v Value) BoolValue() bool     { return v.bits != 0 }

// Interface returns the payload as int64, uint64, float64, string or bool.
func (v Value) Interface() any {
	switch v.kind {
	case KindInt:
		return v.IntValue()
	case KindUint:
		return v.UintValue()
	case KindFloat:
		return v.FloatValue()
	case KindString:
		return v.str
	case KindBool:
		return v.BoolValue()
	}
	return nil
}

func (v Value) String() string {
	switch v.kind {
	case KindInt:
		return strconv.FormatInt(v.IntValue(), 10)
	case KindUint:
		return strconv.FormatUint(v.bits, 10)
	case KindFloat:
		return strconv.FormatFloat(v.FloatValue(), 'g', -1, 64)
	case KindString:
		return strconv.Quote(v.str)
	case KindBool:
		return strconv.FormatBool(v.BoolValue())
	}
	return "<invalid>"
}
