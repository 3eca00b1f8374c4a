package control

import (
	"github.com/stitchnfv/stitch/servicerouter"
	"github.com/stitchnfv/stitch/servicerouter/slots"
	"github.com/stitchnfv/stitch/xdp"
)

func serviceView(v servicerouter.ServiceView) ServiceView {
	out := ServiceView{Name: v.Name, VIP: v.VIP.Addr.String(), Port: v.VIP.Port, Protocol: protocolName(v.VIP.Proto),
		Counters: counters(v.Counters), Instances: make([]InstanceView, 0, len(v.Instances))}
	for _, in := range v.Instances {
		out.Instances = append(out.Instances, instanceView(in))
	}
	if v.Overflow != nil {
		o := instanceView(*v.Overflow)
		out.Overflow = &o
	}
	return out
}

func instanceView(in servicerouter.InstanceView) InstanceView {
	return InstanceView{ID: in.ID, Draining: in.Draining, Entries: in.Entries,
		Share: 100 * float64(in.Entries) / xdp.RingSize, Estimate: estimate(in.Estimate), Counters: counters(in.Counters)}
}

func estimate(e slots.Estimate) Estimate {
	return Estimate{Live: e.Live, Free: e.Free, Mean: e.Mean, Sigma: e.Sigma, AgeSeconds: e.Age.Seconds(),
		Rate: e.Rate, SessionSeconds: e.Session.Seconds(), SendRate: e.SendRate, Sent: e.Sent, Arrivals: e.Arrivals, Departures: e.Departures, Headroom: e.Headroom, Weight: e.Weight}
}

func counters(c xdp.FlowCounters) Counters {
	return Counters{Packets: c.Packets, Bytes: c.Bytes, NewSessions: c.NewFlows, Refused: c.Refused}
}
