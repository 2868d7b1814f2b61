package mastoapi

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

const paramsKey = "mastoapi.params"

// params are a request's parameters from the query, a form body or a JSON
// body, as Mastodon accepts all three. JSON objects flatten to key[sub]
// and arrays to key[] (and key), the names forms use.
type params struct{ url.Values }

func (a *API) params(c echo.Context) (params, error) {
	if p, ok := c.Get(paramsKey).(params); ok {
		return p, nil
	}
	v := url.Values{}
	for k, vs := range c.QueryParams() {
		v[k] = append(v[k], vs...)
	}
	req := c.Request()
	if req.Method != http.MethodGet && req.Method != http.MethodHead && req.Body != nil && req.ContentLength != 0 {
		mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
		switch mt {
		case echo.MIMEApplicationJSON:
			var body map[string]any
			if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
				return params{}, errorf(http.StatusBadRequest, "Malformed JSON body")
			}
			for k, val := range body {
				flatten(v, k, val)
			}
		case echo.MIMEApplicationForm, echo.MIMEMultipartForm:
			form, err := c.FormParams()
			if err != nil {
				return params{}, errorf(http.StatusBadRequest, "Malformed form body")
			}
			for k, vs := range form {
				v[k] = append(v[k], vs...)
			}
		}
	}
	p := params{v}
	c.Set(paramsKey, p)
	return p, nil
}

func flatten(v url.Values, key string, val any) {
	switch x := val.(type) {
	case nil:
	case map[string]any:
		for k, sub := range x {
			flatten(v, key+"["+k+"]", sub)
		}
	case []any:
		for _, e := range x {
			flatten(v, key+"[]", e)
			flatten(v, key, e)
		}
	case string:
		v.Add(key, x)
	case bool:
		v.Add(key, strconv.FormatBool(x))
	case float64:
		v.Add(key, strconv.FormatFloat(x, 'f', -1, 64))
	default:
		v.Add(key, fmt.Sprint(x))
	}
}

// list returns the values of an array parameter, sent as name[] or name.
func (p params) list(name string) []string {
	if vs := p.Values[name+"[]"]; len(vs) > 0 {
		return vs
	}
	return p.Values[name]
}

// bool reads Mastodon's booleans: true, 1, "on".
func (p params) bool(name string) bool { return truthy(p.Get(name)) }

// has reports whether the parameter was sent.
func (p params) has(name string) bool { _, ok := p.Values[name]; return ok }

// truthy reads one of Mastodon's boolean values.
func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "true", "1", "on", "yes":
		return true
	}
	return false
}

var indexedKey = regexp.MustCompile(`^(.+)\[(\d+)\]\[([a-z_]+)\]$`)

// objects reads an array of objects (Rails' nested attributes) sent as
// name[][field] (in order), name[N][field] (by index) or, in JSON, a list
// of objects; at most 100.
func (p params) objects(name string) []map[string]string {
	var out []map[string]string
	byIndex := map[int]map[string]string{}
	var indexes []int
	for k, vs := range p.Values {
		if m := indexedKey.FindStringSubmatch(k); m != nil && m[1] == name && len(vs) > 0 {
			i, _ := strconv.Atoi(m[2])
			if byIndex[i] == nil {
				if len(byIndex) >= 100 {
					continue
				}
				byIndex[i] = map[string]string{}
				indexes = append(indexes, i)
			}
			byIndex[i][m[3]] = vs[0]
			continue
		}
		field, ok := strings.CutPrefix(k, name+"[][")
		if !ok || !strings.HasSuffix(field, "]") {
			continue
		}
		field = strings.TrimSuffix(field, "]")
		for i, v := range vs {
			if i >= 100 {
				break
			}
			for len(out) <= i {
				out = append(out, map[string]string{})
			}
			out[i][field] = v
		}
	}
	slices.Sort(indexes)
	for _, i := range indexes {
		out = append(out, byIndex[i])
	}
	return out
}
