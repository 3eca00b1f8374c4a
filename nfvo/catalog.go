package nfvo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/internal/store"
)

func catalogKey(id, version string) string { return id + "/" + version }

// splitRef reads "<id>" or "<id>:<version>".
func splitRef(ref string) (id, version string) {
	id, version, _ = strings.Cut(ref, ":")
	return id, version
}

func warningStrings(ws []descriptors.Warning) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.Path+": "+w.Message)
	}
	return out
}

func invalid(err error) error {
	if errors.Is(err, descriptors.ErrInvalid) {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}

// OnboardVNFD validates one VNFD document and stores it as a new version.
// Onboarding the same version again with the same content is a no-op; with
// other content it is a conflict.
func (o *Orchestrator) OnboardVNFD(ctx context.Context, doc []byte) (VnfdInfo, error) {
	defer o.plans.clear()
	d, warns, err := descriptors.Parse(doc)
	if err != nil {
		return VnfdInfo{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(d.VNFDs) != 1 || len(d.NSDs) != 0 {
		return VnfdInfo{}, fmt.Errorf("%w: a VNF package holds exactly one VNFD (found %d VNFDs, %d NSDs)", ErrInvalid, len(d.VNFDs), len(d.NSDs))
	}
	v := &d.VNFDs[0]
	if err := descriptors.ValidateVNFD(v); err != nil {
		return VnfdInfo{}, invalid(err)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return VnfdInfo{}, err
	}
	info := VnfdInfo{
		ID: v.ID + ":" + v.Version, VnfdID: v.ID, Version: v.Version, Kind: string(v.Kind),
		ProductName: v.ProductName, Provider: v.Provider, Warnings: warningStrings(warns),
		OnboardedAt: o.now(), Document: raw,
	}
	err = o.store.Update(ctx, func(tx store.Tx) error {
		old, err := store.GetJSON[VnfdInfo](tx, bucketVNFD, catalogKey(v.ID, v.Version))
		switch {
		case err == nil && bytes.Equal(old.Document, raw):
			info = old
			return nil
		case err == nil:
			return fmt.Errorf("%w: VNFD %s version %s is already onboarded with other content; onboard it as a new version", ErrConflict, v.ID, v.Version)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		return store.PutJSON(tx, bucketVNFD, catalogKey(v.ID, v.Version), info)
	})
	return info, err
}

// OnboardNSD validates one NSD document against the onboarded VNFDs and
// stores it as a new version.
func (o *Orchestrator) OnboardNSD(ctx context.Context, doc []byte) (NsdInfo, error) {
	defer o.plans.clear()
	d, warns, err := descriptors.Parse(doc)
	if err != nil {
		return NsdInfo{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(d.NSDs) != 1 || len(d.VNFDs) != 0 {
		return NsdInfo{}, fmt.Errorf("%w: an NSD document holds exactly one NSD (found %d NSDs, %d VNFDs)", ErrInvalid, len(d.NSDs), len(d.VNFDs))
	}
	n := &d.NSDs[0]
	raw, err := json.Marshal(n)
	if err != nil {
		return NsdInfo{}, err
	}
	info := NsdInfo{
		ID: n.ID + ":" + n.Version, NsdID: n.ID, Version: n.Version, Name: n.Name,
		VnfdIDs: n.VnfdIDs, Warnings: warningStrings(warns), OnboardedAt: o.now(), Document: raw,
	}
	err = o.store.Update(ctx, func(tx store.Tx) error {
		vnfds := map[string]*descriptors.VNFD{}
		for _, id := range n.VnfdIDs {
			if info, err := latestVNFD(tx, id); err == nil {
				if v, err := decodeVNFD(info); err == nil {
					vnfds[id] = v
				}
			}
		}
		if err := descriptors.ValidateNSD(n, vnfds); err != nil {
			return invalid(err)
		}
		old, err := store.GetJSON[NsdInfo](tx, bucketNSD, catalogKey(n.ID, n.Version))
		switch {
		case err == nil && bytes.Equal(old.Document, raw):
			info = old
			return nil
		case err == nil:
			return fmt.Errorf("%w: NSD %s version %s is already onboarded with other content; onboard it as a new version", ErrConflict, n.ID, n.Version)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		return store.PutJSON(tx, bucketNSD, catalogKey(n.ID, n.Version), info)
	})
	return info, err
}

func decodeVNFD(info VnfdInfo) (*descriptors.VNFD, error) {
	var v descriptors.VNFD
	if err := json.Unmarshal(info.Document, &v); err != nil {
		return nil, fmt.Errorf("stored VNFD %s: %w", info.ID, err)
	}
	return &v, nil
}

func decodeNSD(info NsdInfo) (*descriptors.NSD, error) {
	var n descriptors.NSD
	if err := json.Unmarshal(info.Document, &n); err != nil {
		return nil, fmt.Errorf("stored NSD %s: %w", info.ID, err)
	}
	return &n, nil
}

// latest returns the most recently onboarded version of id in a catalog
// bucket.
func latest[T any](tx store.Tx, bucket, id string, at func(T) int64) (T, error) {
	var best T
	found := false
	all, err := store.ListJSON[T](tx, bucket, id+"/")
	if err != nil {
		return best, err
	}
	for _, v := range all {
		if !found || at(v) > at(best) {
			best, found = v, true
		}
	}
	if !found {
		return best, fmt.Errorf("%q: %w", id, ErrNotFound)
	}
	return best, nil
}

func latestVNFD(tx store.Tx, id string) (VnfdInfo, error) {
	return latest(tx, bucketVNFD, id, func(v VnfdInfo) int64 { return v.OnboardedAt.UnixNano() })
}

func latestNSD(tx store.Tx, id string) (NsdInfo, error) {
	return latest(tx, bucketNSD, id, func(v NsdInfo) int64 { return v.OnboardedAt.UnixNano() })
}

func getVNFD(tx store.Tx, ref string) (VnfdInfo, error) {
	id, version := splitRef(ref)
	if version == "" {
		v, err := latestVNFD(tx, id)
		if errors.Is(err, ErrNotFound) {
			return v, fmt.Errorf("VNFD %w", err)
		}
		return v, err
	}
	v, err := store.GetJSON[VnfdInfo](tx, bucketVNFD, catalogKey(id, version))
	if errors.Is(err, store.ErrNotFound) {
		return v, fmt.Errorf("VNFD %q version %q: %w", id, version, ErrNotFound)
	}
	return v, err
}

func getNSD(tx store.Tx, ref string) (NsdInfo, error) {
	id, version := splitRef(ref)
	if version == "" {
		v, err := latestNSD(tx, id)
		if errors.Is(err, ErrNotFound) {
			return v, fmt.Errorf("NSD %w", err)
		}
		return v, err
	}
	v, err := store.GetJSON[NsdInfo](tx, bucketNSD, catalogKey(id, version))
	if errors.Is(err, store.ErrNotFound) {
		return v, fmt.Errorf("NSD %q version %q: %w", id, version, ErrNotFound)
	}
	return v, err
}

func (o *Orchestrator) ListVNFDs(ctx context.Context) (out []VnfdInfo, err error) {
	err = o.store.View(ctx, func(tx store.Tx) error {
		out, err = store.ListJSON[VnfdInfo](tx, bucketVNFD, "")
		return err
	})
	return out, err
}

func (o *Orchestrator) GetVNFD(ctx context.Context, ref string) (out VnfdInfo, err error) {
	err = o.store.View(ctx, func(tx store.Tx) error {
		out, err = getVNFD(tx, ref)
		return err
	})
	return out, err
}

func (o *Orchestrator) ListNSDs(ctx context.Context) (out []NsdInfo, err error) {
	err = o.store.View(ctx, func(tx store.Tx) error {
		out, err = store.ListJSON[NsdInfo](tx, bucketNSD, "")
		return err
	})
	return out, err
}

func (o *Orchestrator) GetNSD(ctx context.Context, ref string) (out NsdInfo, err error) {
	err = o.store.View(ctx, func(tx store.Tx) error {
		out, err = getNSD(tx, ref)
		return err
	})
	return out, err
}

// DeleteVNFD removes one VNFD version (the latest when none is given). A
// VNFD that an NSD lists or an NS instance runs cannot be deleted.
func (o *Orchestrator) DeleteVNFD(ctx context.Context, ref string) error {
	defer o.plans.clear()
	return o.store.Update(ctx, func(tx store.Tx) error {
		v, err := getVNFD(tx, ref)
		if err != nil {
			return err
		}
		nsds, err := store.ListJSON[NsdInfo](tx, bucketNSD, "")
		if err != nil {
			return err
		}
		for _, n := range nsds {
			if slices.Contains(n.VnfdIDs, v.VnfdID) && v.isOnlyVersion(tx) {
				return fmt.Errorf("%w: VNFD %s is used by NSD %s", ErrConflict, v.VnfdID, n.ID)
			}
		}
		nss, err := store.ListJSON[NsInstance](tx, bucketNS, "")
		if err != nil {
			return err
		}
		for _, ns := range nss {
			if ns.VnfdVersions[v.VnfdID] == v.Version {
				return fmt.Errorf("%w: VNFD %s is used by NS instance %s (%s)", ErrConflict, v.ID, ns.ID, ns.Name)
			}
		}
		return tx.Delete(bucketVNFD, catalogKey(v.VnfdID, v.Version))
	})
}

// isOnlyVersion: an NSD refers to a VNFD by id, so deleting one version is
// fine while another version remains.
func (v VnfdInfo) isOnlyVersion(tx store.Tx) bool {
	all, err := store.ListJSON[VnfdInfo](tx, bucketVNFD, v.VnfdID+"/")
	return err != nil || len(all) <= 1
}

// DeleteNSD removes one NSD version; one an NS instance uses cannot be
// deleted.
func (o *Orchestrator) DeleteNSD(ctx context.Context, ref string) error {
	defer o.plans.clear()
	return o.store.Update(ctx, func(tx store.Tx) error {
		n, err := getNSD(tx, ref)
		if err != nil {
			return err
		}
		nss, err := store.ListJSON[NsInstance](tx, bucketNS, "")
		if err != nil {
			return err
		}
		for _, ns := range nss {
			if ns.NsdID == n.NsdID && ns.NsdVersion == n.Version {
				return fmt.Errorf("%w: NSD %s is used by NS instance %s (%s)", ErrConflict, n.ID, ns.ID, ns.Name)
			}
		}
		return tx.Delete(bucketNSD, catalogKey(n.NsdID, n.Version))
	})
}
