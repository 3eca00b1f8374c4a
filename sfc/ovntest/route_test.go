package ovntest

import "testing"

func TestSNMPCounter(t *testing.T) {
	const snmp = "Ip: Forwarding DefaultTTL InReceives ForwDatagrams\nIp: 1 64 120 42\nIcmp: InMsgs\nIcmp: 3\n"
	if n, err := snmpCounter(snmp, "Ip", "ForwDatagrams"); err != nil || n != 42 {
		t.Errorf("ForwDatagrams = %d, %v; want 42", n, err)
	}
	if _, err := snmpCounter(snmp, "Ip", "Nope"); err == nil {
		t.Error("a missing counter was found")
	}
}
