package ovn

// LogicalPortName is the NB name the renderer gives port of NS nsID: what
// a hypervisor binds an interface to (external_ids:iface-id), so a VIM can
// bind an instance before or after its port is rendered.
func LogicalPortName(nsID, port string) (string, error) {
	prefix, err := nsPrefix(nsID)
	if err != nil {
		return "", err
	}
	return namer{nsID: nsID, prefix: prefix}.portName(port), nil
}
