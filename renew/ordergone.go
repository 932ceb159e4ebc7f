package renew

import (
	"context"
	"errors"
	"time"
)

// orderGone reports whether err, from reading r's order status, shows the
// order is gone unpaid: OVHcloud forgets an unpaid order some time after
// it expires, and its status then answers 404 (terraform-provider-ovh
// treats that as deleted). A paid order is never forgotten, so a 404 past
// the order's expirationDate means the payment did not go through. Before
// that date a 404 (right after a pay call, say) proves nothing.
func orderGone(r *Request, err error, now time.Time) bool {
	return errors.Is(err, ErrNotFound) && r.Order != nil &&
		!r.Order.Expiration.IsZero() && now.After(r.Order.Expiration)
}

// expireGone ends a request whose payment outcome was unknown and whose
// order OVHcloud no longer knows: it expired unpaid.
func (rn *Renewer) expireGone(ctx context.Context, r *Request) (*Request, error) {
	const why = "the order expired unpaid: OVHcloud no longer knows it"
	return rn.moveIfUnchanged(ctx, r, StateExpired,
		Event{At: rn.now(), Action: "expired", Detail: why},
		func(r *Request) { r.Error = why })
}
