package mastoapi

import (
	"html"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// Filters, v2 (a filter with keywords and posts) and v1 (one keyword per
// filter). Statuses shown in a filter's context carry `filtered`; those
// of a filter whose action is hide are left out, as Mastodon does.

var filterContexts = []string{"home", "notifications", "public", "thread", "account"}

func filterEntity(f *storage.Filter) FilterV2 {
	out := FilterV2{ID: id(f.ID), Title: f.Title, Context: strings.Fields(f.Context), FilterAction: f.Action,
		Keywords: []FilterKeyword{}, Statuses: []FilterStatus{}}
	if f.ExpiresAt != nil {
		out.ExpiresAt = ptr(iso(*f.ExpiresAt))
	}
	for _, k := range f.Keywords {
		out.Keywords = append(out.Keywords, keywordEntity(k))
	}
	for _, s := range f.Statuses {
		out.Statuses = append(out.Statuses, FilterStatus{ID: id(s.ID), StatusID: id(s.ObjectID)})
	}
	return out
}

func keywordEntity(k storage.FilterKeyword) FilterKeyword {
	return FilterKeyword{ID: id(k.ID), Keyword: k.Keyword, WholeWord: k.WholeWord}
}

var tagsRe = regexp.MustCompile(`<[^>]*>`)

// keywordMatches reports whether text (plain) holds keyword: as a whole
// word, or anywhere, ignoring case.
func keywordMatches(text, keyword string, wholeWord bool) bool {
	if keyword == "" {
		return false
	}
	if !wholeWord {
		return strings.Contains(strings.ToLower(text), strings.ToLower(keyword))
	}
	re, err := regexp.Compile(`(?i)(?:^|[^\p{L}\p{N}_])` + regexp.QuoteMeta(keyword) + `(?:$|[^\p{L}\p{N}_])`)
	return err == nil && re.MatchString(text)
}

// filterResults matches a post against the viewer's filters for the
// renderer's context; it marks the status hidden when a hide filter
// matches.
func (r *renderer) filterResults(o *storage.Object) []FilterResult {
	if r.viewer == 0 || r.filterContext == "" || o.AuthorActorID == r.viewer {
		return nil
	}
	if !r.filtersRead {
		r.filtersRead = true
		fs, err := r.a.db.ListFilters(r.ctx, r.viewer)
		if err != nil {
			r.a.log.Warn("reading filters", "error", err)
		}
		r.filters = fs
	}
	var out []FilterResult
	now := r.a.now()
	text := html.UnescapeString(tagsRe.ReplaceAllString(o.Content, " ")) + " " + o.Summary + " " + o.Name
	for i := range r.filters {
		f := &r.filters[i]
		if f.ExpiresAt != nil && f.ExpiresAt.Before(now) || !slices.Contains(strings.Fields(f.Context), r.filterContext) {
			continue
		}
		res := FilterResult{Filter: filterEntity(f)}
		for _, k := range f.Keywords {
			if keywordMatches(text, k.Keyword, k.WholeWord) {
				res.KeywordMatches = append(res.KeywordMatches, k.Keyword)
			}
		}
		for _, s := range f.Statuses {
			if s.ObjectID == o.ID {
				res.StatusMatches = append(res.StatusMatches, id(o.ID))
			}
		}
		if res.KeywordMatches != nil || res.StatusMatches != nil {
			out = append(out, res)
		}
	}
	return out
}

// visible drops the statuses a hide filter matched.
func visible(list []*Status) []*Status {
	out := list[:0]
	for _, s := range list {
		if s.hidden || s.Reblog != nil && s.Reblog.hidden {
			continue
		}
		out = append(out, s)
	}
	return out
}

// filterParam loads the viewer's filter named by :id.
func (a *API) filterParam(c echo.Context) (*storage.Filter, error) {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil, errNotFound
	}
	return a.db.GetFilter(c.Request().Context(), viewerID(c), n)
}

// readFilter reads a filter's own fields from p into f; partial when
// updating.
func readFilter(p params, f *storage.Filter, now time.Time, update bool) error {
	if !update || p.has("title") {
		t := strings.TrimSpace(p.Get("title"))
		if t == "" || len(t) > 256 {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: Title can't be blank")
		}
		f.Title = t
	}
	if ctxs := p.list("context"); !update || len(ctxs) > 0 {
		var kept []string
		for _, c := range ctxs {
			if !slices.Contains(filterContexts, c) {
				return errorf(http.StatusUnprocessableEntity, "Validation failed: Context %q is not one of %s", c, strings.Join(filterContexts, ", "))
			}
			if !slices.Contains(kept, c) {
				kept = append(kept, c)
			}
		}
		if len(kept) == 0 {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: Context can't be blank")
		}
		f.Context = strings.Join(kept, " ")
	}
	if p.has("filter_action") || !update {
		switch act := p.Get("filter_action"); act {
		case "", "warn":
			f.Action = "warn"
		case "hide", "blur":
			f.Action = act
		default:
			return errorf(http.StatusUnprocessableEntity, "Validation failed: filter_action must be warn, hide or blur")
		}
	}
	if p.has("expires_in") {
		v := p.Get("expires_in")
		if v == "" {
			f.ExpiresAt = nil
		} else {
			secs, err := strconv.Atoi(v)
			if err != nil || secs <= 0 {
				return errorf(http.StatusUnprocessableEntity, "Validation failed: expires_in must be a number of seconds")
			}
			t := now.Add(time.Duration(secs) * time.Second).UTC()
			f.ExpiresAt = &t
		}
	}
	return nil
}

func readKeyword(m map[string]string) (storage.FilterKeyword, error) {
	k := storage.FilterKeyword{Keyword: strings.TrimSpace(m["keyword"]), WholeWord: true}
	if v, ok := m["whole_word"]; ok {
		k.WholeWord = truthy(v)
	}
	if k.Keyword == "" || len(k.Keyword) > 256 {
		return k, errorf(http.StatusUnprocessableEntity, "Validation failed: Keyword can't be blank")
	}
	return k, nil
}

// filterWrite is POST /api/v2/filters and PUT /api/v2/filters/:id, with
// keywords_attributes to add, change (id) or remove (_destroy).
func (a *API) filterWrite(update bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := a.params(c)
		if err != nil {
			return err
		}
		f := &storage.Filter{ActorID: viewerID(c)}
		if update {
			if f, err = a.filterParam(c); err != nil {
				return err
			}
		}
		if err := readFilter(p, f, a.now(), update); err != nil {
			return err
		}
		var add, change []storage.FilterKeyword
		var destroy []int64
		for _, m := range p.objects("keywords_attributes") {
			if kid, ok := m["id"]; ok && update {
				n, err := strconv.ParseInt(kid, 10, 64)
				if err != nil {
					return errNotFound
				}
				if truthy(m["_destroy"]) {
					destroy = append(destroy, n)
					continue
				}
				k, err := readKeyword(m)
				if err != nil {
					return err
				}
				k.ID = n
				change = append(change, k)
				continue
			}
			k, err := readKeyword(m)
			if err != nil {
				return err
			}
			add = append(add, k)
		}
		if err := a.svc.SaveFilter(c.Request().Context(), f, add, change, destroy); err != nil {
			return err
		}
		got, err := a.db.GetFilter(c.Request().Context(), f.ActorID, f.ID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, filterEntity(got))
	}
}

// listFilters is GET /api/v2/filters.
func (a *API) listFilters(c echo.Context) error {
	fs, err := a.db.ListFilters(c.Request().Context(), viewerID(c))
	if err != nil {
		return err
	}
	out := []FilterV2{}
	for i := range fs {
		out = append(out, filterEntity(&fs[i]))
	}
	return c.JSON(http.StatusOK, out)
}

// getFilter is GET /api/v2/filters/:id.
func (a *API) getFilter(c echo.Context) error {
	f, err := a.filterParam(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, filterEntity(f))
}

// deleteFilter is DELETE /api/v2/filters/:id.
func (a *API) deleteFilter(c echo.Context) error {
	f, err := a.filterParam(c)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteFilter(c.Request().Context(), viewer(c), f.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct{}{})
}

// filterKeywords is GET /api/v2/filters/:id/keywords.
func (a *API) filterKeywords(c echo.Context) error {
	f, err := a.filterParam(c)
	if err != nil {
		return err
	}
	out := []FilterKeyword{}
	for _, k := range f.Keywords {
		out = append(out, keywordEntity(k))
	}
	return c.JSON(http.StatusOK, out)
}

// addFilterKeyword is POST /api/v2/filters/:id/keywords.
func (a *API) addFilterKeyword(c echo.Context) error {
	f, err := a.filterParam(c)
	if err != nil {
		return err
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	m := map[string]string{"keyword": p.Get("keyword")}
	if p.has("whole_word") {
		m["whole_word"] = p.Get("whole_word")
	}
	k, err := readKeyword(m)
	if err != nil {
		return err
	}
	add := []storage.FilterKeyword{k}
	if err := a.svc.SaveFilter(c.Request().Context(), f, add, nil, nil); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, keywordEntity(add[0]))
}

// keywordParam loads the viewer's filter keyword named by :id.
func (a *API) keywordParam(c echo.Context) (*storage.Filter, *storage.FilterKeyword, error) {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil, nil, errNotFound
	}
	return a.db.FilterOfKeyword(c.Request().Context(), viewerID(c), n)
}

// filterKeyword is GET, PUT and DELETE /api/v2/filters/keywords/:id.
func (a *API) filterKeyword(c echo.Context) error {
	f, k, err := a.keywordParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	switch c.Request().Method {
	case http.MethodPut:
		p, err := a.params(c)
		if err != nil {
			return err
		}
		m := map[string]string{"keyword": k.Keyword, "whole_word": strconv.FormatBool(k.WholeWord)}
		if p.has("keyword") {
			m["keyword"] = p.Get("keyword")
		}
		if p.has("whole_word") {
			m["whole_word"] = p.Get("whole_word")
		}
		nk, err := readKeyword(m)
		if err != nil {
			return err
		}
		nk.ID, nk.FilterID = k.ID, k.FilterID
		if err := a.svc.SaveFilter(ctx, f, nil, []storage.FilterKeyword{nk}, nil); err != nil {
			return err
		}
		k = &nk
	case http.MethodDelete:
		if err := a.svc.SaveFilter(ctx, f, nil, nil, []int64{k.ID}); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, struct{}{})
	}
	return c.JSON(http.StatusOK, keywordEntity(*k))
}

// filterStatuses is GET /api/v2/filters/:id/statuses.
func (a *API) filterStatuses(c echo.Context) error {
	f, err := a.filterParam(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, filterEntity(f).Statuses)
}

// addFilterStatus is POST /api/v2/filters/:id/statuses.
func (a *API) addFilterStatus(c echo.Context) error {
	f, err := a.filterParam(c)
	if err != nil {
		return err
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	o, err := a.objectByID(c.Request().Context(), viewer(c), p.Get("status_id"))
	if err != nil {
		return err
	}
	fs, err := a.svc.AddFilterStatus(c.Request().Context(), viewer(c), f.ID, o.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, FilterStatus{ID: id(fs.ID), StatusID: id(fs.ObjectID)})
}

// filterStatus is GET and DELETE /api/v2/filters/statuses/:id.
func (a *API) filterStatus(c echo.Context) error {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	_, s, err := a.db.FilterOfStatus(c.Request().Context(), viewerID(c), n)
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodDelete {
		if err := a.svc.RemoveFilterStatus(c.Request().Context(), viewer(c), s.ID); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, struct{}{})
	}
	return c.JSON(http.StatusOK, FilterStatus{ID: id(s.ID), StatusID: id(s.ObjectID)})
}

// Filters v1: each keyword of a v2 filter is one v1 filter, with the
// keyword's id (as Mastodon answers v1 since 4.0).

func v1Filters(fs []storage.Filter) []FilterV1 {
	out := []FilterV1{}
	for _, f := range fs {
		for _, k := range f.Keywords {
			out = append(out, v1Filter(&f, k))
		}
	}
	return out
}

func v1Filter(f *storage.Filter, k storage.FilterKeyword) FilterV1 {
	out := FilterV1{ID: id(k.ID), Phrase: k.Keyword, Context: strings.Fields(f.Context), WholeWord: k.WholeWord, Irreversible: f.Action == "hide"}
	if f.ExpiresAt != nil {
		out.ExpiresAt = ptr(iso(*f.ExpiresAt))
	}
	return out
}

// listFiltersV1 is GET /api/v1/filters.
func (a *API) listFiltersV1(c echo.Context) error {
	fs, err := a.db.ListFilters(c.Request().Context(), viewerID(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v1Filters(fs))
}

// filterV1 is GET, PUT and DELETE /api/v1/filters/:id (a keyword's id).
func (a *API) filterV1(c echo.Context) error {
	f, k, err := a.keywordParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	switch c.Request().Method {
	case http.MethodDelete:
		// The keyword and, when it was the filter's last, the filter.
		if len(f.Keywords) <= 1 {
			err = a.svc.DeleteFilter(ctx, viewer(c), f.ID)
		} else {
			err = a.svc.SaveFilter(ctx, f, nil, nil, []int64{k.ID})
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, struct{}{})
	case http.MethodPut:
		p, err := a.params(c)
		if err != nil {
			return err
		}
		if err := readV1(p, f, k, a.now()); err != nil {
			return err
		}
		if err := a.svc.SaveFilter(ctx, f, nil, []storage.FilterKeyword{*k}, nil); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, v1Filter(f, *k))
}

// readV1 reads v1's phrase, context, irreversible, whole_word and
// expires_in into a filter and its one keyword.
func readV1(p params, f *storage.Filter, k *storage.FilterKeyword, now time.Time) error {
	if p.has("phrase") || k.Keyword == "" {
		kw, err := readKeyword(map[string]string{"keyword": p.Get("phrase")})
		if err != nil {
			return err
		}
		k.Keyword = kw.Keyword
	}
	if p.has("whole_word") {
		k.WholeWord = p.bool("whole_word")
	}
	if p.has("irreversible") {
		f.Action = "warn"
		if p.bool("irreversible") {
			f.Action = "hide"
		}
	}
	if f.Title == "" {
		f.Title = k.Keyword
	}
	v := withoutKeys(p.Values, "title", "filter_action")
	v["title"], v["filter_action"] = []string{f.Title}, []string{f.Action}
	return readFilter(params{v}, f, now, f.ID != 0)
}

func withoutKeys(v map[string][]string, keys ...string) map[string][]string {
	out := map[string][]string{}
	for k, vs := range v {
		if !slices.Contains(keys, k) {
			out[k] = vs
		}
	}
	return out
}

// createFilterV1 is POST /api/v1/filters: a filter with one keyword.
func (a *API) createFilterV1(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	f := &storage.Filter{ActorID: viewerID(c), Action: "warn"}
	k := &storage.FilterKeyword{WholeWord: true}
	if err := readV1(p, f, k, a.now()); err != nil {
		return err
	}
	add := []storage.FilterKeyword{*k}
	if err := a.svc.SaveFilter(c.Request().Context(), f, add, nil, nil); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v1Filter(f, add[0]))
}
