package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	htmltomarkdown "github.com/JohannesKaufmann/html-to-markdown/v2"
	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/federation"
)

func (a *app) communityExportCommand() *cobra.Command {
	var out, markdown string
	cmd := &cobra.Command{
		Use:   "export NAME",
		Short: "Export a community as JSON, and its repertoire as Markdown",
		Long: `Export everything this server holds of a local community: its settings, members
and moderators, its posts and replies (members-only ones too), its repertoire and
its moderation log, as one JSON document, written to standard output or to --out
(created readable by its owner only: it holds private posts and reasons).

With --markdown DIR, the repertoire is also written as a folder of Markdown files,
README.md listing them by section, one file per post.

"community import" makes a new community from the JSON on this or another server.`,
		Example: `  commonplace community export practice --out practice.json
  commonplace community export practice --markdown practice-repertoire/ > practice.json`,
		Args: argsNamed("NAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			exp, err := svc.ExportCommunity(cmd.Context(), args[0])
			if err != nil {
				return describe("export community", err)
			}
			w := a.Stdout
			if out != "" {
				f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
				if err != nil {
					return fmt.Errorf("export community: %w", err)
				}
				defer f.Close()
				w = f
			}
			if err := writeJSON(w, exp); err != nil {
				return fmt.Errorf("export community: %w", err)
			}
			if markdown != "" {
				if err := writeRepertoireMarkdown(markdown, exp); err != nil {
					return fmt.Errorf("export repertoire: %w", err)
				}
			}
			if out != "" {
				fmt.Fprintf(a.Stdout, "exported %s: %d posts, %d members, %d repertoire items, %d moderation entries\n",
					exp.Community.Name, len(exp.Posts), len(exp.Members), len(exp.Repertoire), len(exp.ModLog))
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&out, "out", "", "write the JSON to `FILE` instead of standard output")
	cmd.Flags().StringVar(&markdown, "markdown", "", "also write the repertoire as Markdown files into `DIR`")
	return cmd
}

func (a *app) communityImportCommand() *cobra.Command {
	var name, owner string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Make a new community from an export",
		Long: `Make a new local community from the JSON that "community export" wrote, here or
on another server: its title, statement, tags, settings, posts and replies (in
their threads, with their kinds and tags), accepted answers and repertoire.

Posts are re-published by the new community, each opening with its author, date
and original address: nobody here may write in the name of their authors. Members,
moderators and the moderation log are in the file but not imported: members join
the new community from their own servers. Followers-only and direct posts are
left out. The file may be at most 256 MiB.`,
		Example: `  commonplace community import practice.json --name practice_archive --owner alice`,
		Args:    argsNamed("FILE"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			exp, err := readExport(args[0])
			if err != nil {
				return err
			}
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			rep, err := svc.ImportCommunity(cmd.Context(), a.operator(), exp, name, owner)
			if err != nil {
				return describe("import community", err)
			}
			fmt.Fprintf(a.Stdout, "imported %s (%s): %d posts, %d replies, %d repertoire items\n",
				rep.Community.Actor.Handle(), rep.Community.Actor.URI, rep.Posts, rep.Replies, rep.Repertoire)
			if rep.Skipped > 0 {
				fmt.Fprintf(a.Stdout, "left out %d followers-only or direct posts\n", rep.Skipped)
			}
			fmt.Fprintf(a.Stdout, "not imported: %d members (they join from their servers), %d moderators, %d moderation entries\n",
				rep.Members, rep.Moderators, rep.ModLog)
			return nil
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "`NAME` of the new community (default: the exported one)")
	cmd.Flags().StringVar(&owner, "owner", "", "`USERNAME` of the local member who owns the new community")
	return cmd
}

// readExport reads and checks an export file, bounded.
func readExport(path string) (*federation.CommunityExport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("import community: %w", err)
	}
	defer f.Close()
	r := io.LimitReader(f, federation.MaxImportBytes+1)
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("import community: %w", err)
	}
	if len(body) > federation.MaxImportBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d MiB", federation.ErrInvalid, path, federation.MaxImportBytes>>20)
	}
	var exp federation.CommunityExport
	if err := json.Unmarshal(body, &exp); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%w: %s is not JSON (at byte %d: %v)", federation.ErrInvalid, path, se.Offset, err)
		}
		return nil, fmt.Errorf("%w: %s is not a community export: %v", federation.ErrInvalid, path, err)
	}
	if err := federation.CheckExport(&exp); err != nil {
		return nil, err
	}
	return &exp, nil
}

// writeRepertoireMarkdown writes the repertoire into dir: README.md with
// the community's title and statement and the posts by section, and one
// file per post. Markdown is made from HTML by html-to-markdown, so that
// text is escaped as Markdown needs.
func writeRepertoireMarkdown(dir string, exp *federation.CommunityExport) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	posts := make(map[string]*federation.ExportedPost, len(exp.Posts))
	for i := range exp.Posts {
		posts[exp.Posts[i].URI] = &exp.Posts[i]
	}
	var index strings.Builder
	index.WriteString("<h1>" + html.EscapeString(exp.Community.Title) + "</h1>")
	if exp.Community.Summary != "" {
		index.WriteString("<p>" + html.EscapeString(exp.Community.Summary) + "</p>")
	}
	section, open := "", false
	for i, it := range exp.Repertoire {
		p := posts[it.Post]
		if p == nil {
			continue
		}
		if i == 0 || it.Section != section {
			if open {
				index.WriteString("</ul>")
			}
			section = it.Section
			if section != "" {
				index.WriteString("<h2>" + html.EscapeString(section) + "</h2>")
			}
			index.WriteString("<ul>")
			open = true
		}
		title := postTitle(p)
		file := fmt.Sprintf("%03d-%s.md", i+1, slug(title))
		index.WriteString(`<li><a href="` + html.EscapeString(file) + `">` + html.EscapeString(title) + "</a></li>")
		body := "<h1>" + html.EscapeString(title) + "</h1><p><em>" + html.EscapeString(byline(p)) + "</em></p>" + p.Content
		if err := writeMarkdown(filepath.Join(dir, file), body); err != nil {
			return err
		}
	}
	if open {
		index.WriteString("</ul>")
	}
	return writeMarkdown(filepath.Join(dir, "README.md"), index.String())
}

func writeMarkdown(path, htmlDoc string) error {
	md, err := htmltomarkdown.ConvertString(htmlDoc)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(md+"\n"), 0o644)
}

// postTitle is a post's title, or the start of its text.
func postTitle(p *federation.ExportedPost) string {
	if p.Title != "" {
		return p.Title
	}
	text := strings.Join(strings.Fields(p.Source), " ")
	if text == "" {
		text = "Untitled"
	}
	if r := []rune(text); len(r) > 60 {
		text = string(r[:60]) + "…"
	}
	return text
}

func byline(p *federation.ExportedPost) string {
	s := "By " + p.Author.Handle + ", " + p.Published.Format("2 January 2006")
	if p.Kind != "" {
		s = strings.ToUpper(p.Kind[:1]) + p.Kind[1:] + ". " + s
	}
	return s + ". " + p.URI
}

// slug is a file-name-safe form of a title: lower-case letters and digits
// joined by dashes, at most 40 characters.
func slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	if b.Len() == 0 {
		return "post"
	}
	return b.String()
}

func (a *app) communityDigestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "digest NAME",
		Short: "Post a community's weekly digest",
		Long: `Post the digest of a local community's last seven days, as the community itself:
the posts added to its repertoire, the questions answered and the threads with
the most replies, each linked. Its followers' servers are sent it like any post,
so that people who would rather not read every reply can follow the community's
own posts. A week with nothing to tell posts nothing. Run it weekly, from cron.`,
		Example: `  0 8 * * 1  commonplace community digest practice`,
		Args:    argsNamed("NAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			o, err := svc.PostDigest(cmd.Context(), args[0], time.Now())
			if err != nil {
				return describe("post digest", err)
			}
			if o == nil {
				fmt.Fprintf(a.Stdout, "nothing new in %s this week: no digest posted\n", args[0])
				return nil
			}
			fmt.Fprintf(a.Stdout, "posted the digest of %s: %s\n", args[0], o.URI)
			return nil
		}),
	}
}
