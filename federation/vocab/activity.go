package vocab

// Activity is a Create, Announce, Follow, Undo or other activity.
//
// Object is usually one IRI or one embedded document (Announce embeds the
// Create it redistributes under FEP-1b12, Create embeds the Note), and a
// list only for Flag; Refs serves both.
type Activity struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Actor      IRI    `json:"actor"`
	Object     Refs   `json:"object,omitempty"`
	Target     Ref    `json:"target,omitzero"`
	Result     Ref    `json:"result,omitzero"`
	Origin     Ref    `json:"origin,omitzero"`
	Instrument Ref    `json:"instrument,omitzero"`
	To         IRIs   `json:"to,omitempty"`
	CC         IRIs   `json:"cc,omitempty"`
	BTo        IRIs   `json:"bto,omitempty"`
	BCC        IRIs   `json:"bcc,omitempty"`
	Audience   IRI    `json:"audience,omitempty"`
	Published  Time   `json:"published,omitzero"`
	Updated    Time   `json:"updated,omitzero"`

	// Summary and Content carry the reason of a Flag or a Lemmy Remove.
	Summary string `json:"summary,omitempty"`
	Content string `json:"content,omitempty"`

	// EndTime ends a ban (a Block with a community as target), and
	// RemoveData asks for the banned member's posts to be removed
	// (Lemmy).
	EndTime    Time `json:"endTime,omitzero"`
	RemoveData bool `json:"removeData,omitempty"`

	// RepertoireSection is the section of a community's repertoire an
	// Add to its featured collection files the post under
	// (commonplace:repertoireSection).
	RepertoireSection string `json:"repertoireSection,omitempty"`
}

// Recipients returns to, cc and audience together.
func (a *Activity) Recipients() []string {
	return recipients(a.To, a.CC, IRIs{string(a.Audience)})
}

// IsPublic reports whether the activity is addressed to the Public
// collection in to or cc.
func (a *Activity) IsPublic() bool { return IsPublic(a.To) || IsPublic(a.CC) }
