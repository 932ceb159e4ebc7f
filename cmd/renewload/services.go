package main

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/renewbot/renewbot/internal/ovhfake"
)

// loadServiceBase is the first id of the services cloned for a run that
// clicks.
const loadServiceBase = 900000

// cloneServices adds n copies of the sample account's web-front to the
// fake and returns their ids, as /renew takes them. A run that clicks
// Choose needs one service per command: the bot orders a service for one
// request at a time, and refuses a second order of it.
func (f *fakes) cloneServices(n int) []string {
	src, _ := f.ovh.Service(ovhfake.WebFrontID)
	strategies := f.ovh.Strategies(ovhfake.WebFrontID)
	ids := make([]string, n)
	for i := range n {
		id := int64(loadServiceBase + i)
		svc := src
		svc.ID, svc.Name, svc.DisplayName = id, fmt.Sprintf("load-%d.example.net", i), fmt.Sprintf("load-%d", i)
		f.ovh.AddService(svc)
		own := make([]ovhfake.Strategy, len(strategies))
		for j, s := range strategies {
			s.Services = slices.Clone(s.Services)
			for k, sid := range s.Services {
				if sid == ovhfake.WebFrontID {
					s.Services[k] = id
				}
			}
			own[j] = s
		}
		f.ovh.SetStrategies(id, own...)
		ids[i] = strconv.FormatInt(id, 10)
	}
	return ids
}
