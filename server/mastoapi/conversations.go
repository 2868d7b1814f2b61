package mastoapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// Direct conversations (/api/v1/conversations): a member's direct
// threads, each with its other participants and latest post.

// Conversation is Mastodon's Conversation entity.
type Conversation struct {
	ID         string     `json:"id"`
	Unread     bool       `json:"unread"`
	Accounts   []*Account `json:"accounts"`
	LastStatus *Status    `json:"last_status"`
}

func (a *API) conversationRoutes() {
	a.add(http.MethodGet, "/api/v1/conversations", userScoped("read:statuses"), a.listConversations)
	a.add(http.MethodDelete, "/api/v1/conversations/:id", userScoped("write:conversations"), a.conversationAction(a.db.DeleteConversation, false))
	a.add(http.MethodPost, "/api/v1/conversations/:id/read", userScoped("write:conversations"), a.conversationAction(a.db.ReadConversation, true))
}

// listConversations is GET /api/v1/conversations.
func (a *API) listConversations(c echo.Context) error {
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	me := viewer(c)
	rows, err := a.db.ListConversations(c.Request().Context(), me.ID, pg)
	if err != nil {
		return err
	}
	out := []*Conversation{}
	for i := range rows {
		conv, err := a.conversationOf(c.Request().Context(), me, &rows[i])
		if err != nil {
			return err
		}
		if conv != nil {
			out = append(out, conv)
		}
	}
	if n := len(rows); n > 0 {
		a.setLink(c, pg, rows[0].LastObjectID, rows[n-1].LastObjectID, n)
	}
	return c.JSON(http.StatusOK, out)
}

// conversationAction is DELETE /api/v1/conversations/:id and POST
// .../read; the read one answers with the conversation.
func (a *API) conversationAction(do func(ctx context.Context, actorID, id int64) error, answer bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return errNotFound
		}
		me, ctx := viewer(c), c.Request().Context()
		if err := do(ctx, me.ID, id); err != nil {
			return err
		}
		if !answer {
			return c.JSON(http.StatusOK, map[string]any{})
		}
		row, err := a.db.GetConversation(ctx, me.ID, id)
		if err != nil {
			return err
		}
		conv, err := a.conversationOf(ctx, me, row)
		if err != nil {
			return err
		}
		if conv == nil {
			return errNotFound
		}
		return c.JSON(http.StatusOK, conv)
	}
}

// conversationOf renders a conversation for its member, or nil when its
// latest post is gone or no longer theirs to read.
func (a *API) conversationOf(ctx context.Context, me *storage.Actor, row *storage.Conversation) (*Conversation, error) {
	o := row.LastObject
	if o == nil {
		return nil, nil
	}
	if ok, err := a.db.CanSee(ctx, me, o); err != nil || !ok {
		return nil, err
	}
	r := a.rendererFor(ctx, me.ID)
	list, err := r.statusesOf([]storage.Object{*o}, nil)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	conv := &Conversation{ID: strconv.FormatInt(row.ID, 10), Unread: row.Unread, Accounts: []*Account{}, LastStatus: list[0]}
	// The other participants: the author and the people the post names.
	uris, err := a.db.ObjectRecipients(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	if o.AuthorActor != nil {
		uris = append([]string{o.AuthorActor.URI}, uris...)
	}
	seen := map[string]bool{me.URI: true}
	for _, u := range uris {
		if seen[u] {
			continue
		}
		seen[u] = true
		actor, err := a.db.GetActorByURI(ctx, u)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		if actor.Type != storage.TypePerson {
			continue
		}
		acc, err := r.account(actor)
		if err != nil {
			return nil, err
		}
		conv.Accounts = append(conv.Accounts, acc)
	}
	return conv, nil
}
