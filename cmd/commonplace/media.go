package main

import (
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server"
	"github.com/commonplace/commonplace/server/instance"
	"github.com/commonplace/commonplace/storage"
)

func (a *app) mediaCommand() *cobra.Command {
	return groupCommand("media", "See and clean up stored media files",
		a.mediaUsageCommand(), a.mediaPruneCommand())
}

// openMedia is open with the media store of the configuration.
func (a *app) openMedia(cmd *cobra.Command) (*federation.Service, func(), error) {
	cfg, err := a.config(cmd)
	if err != nil {
		return nil, nil, err
	}
	svc, db, err := openService(cmd.Context(), cfg, newLogger(cfg, a.Stderr), a.init)
	if err != nil {
		return nil, nil, err
	}
	if svc.Blobs, err = instance.OpenBlobs(cmd.Context(), cfg); err != nil {
		db.Close()
		return nil, nil, err
	}
	svc.MediaPublicBase = cfg.MediaPublicURL
	// Image changes are sent in an Update of the actor as served.
	server.SetActorDocuments(svc)
	svc.MediaLimits = federation.MediaLimits{
		MaxImageBytes: cfg.MediaMaxImageBytes, MaxFileBytes: cfg.MediaMaxFileBytes, QuotaBytes: cfg.MediaQuotaBytes,
		RemoteAge: cfg.MediaRemoteMaxAge,
	}
	svc.MediaLimits.Image.MaxPixels = int(cfg.MediaMaxPixels)
	return svc, func() { db.Close() }, nil
}

type mediaUsageJSON struct {
	Handle string `json:"handle"`
	Local  bool   `json:"local"`
	Files  int64  `json:"files"`
	Bytes  int64  `json:"bytes"`
}

func (a *app) mediaUsageCommand() *cobra.Command {
	var (
		asJSON bool
		limit  int
	)
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Show how much storage media files take, by account, largest first",
		Args: func(cmd *cobra.Command, args []string) error {
			if limit < 1 || limit > 10000 {
				return fmt.Errorf("--limit must be between 1 and 10000")
			}
			return cobra.NoArgs(cmd, args)
		},
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			svc, closeDB, err := a.openMedia(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			rows, err := svc.DB.MediaUsageByAccount(cmd.Context(), limit)
			if err != nil {
				return describe("media usage", err)
			}
			out := make([]mediaUsageJSON, 0, len(rows))
			var files, bytes int64
			for _, r := range rows {
				out = append(out, mediaUsageJSON{Handle: r.Username + "@" + r.Domain, Local: r.Local, Files: r.Files, Bytes: r.Bytes})
				files += r.Files
				bytes += r.Bytes
			}
			if asJSON {
				return writeJSON(a.Stdout, out)
			}
			tw := tabwriter.NewWriter(a.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCOUNT\tLOCAL\tFILES\tBYTES")
			for _, r := range out {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", r.Handle, yesNo(r.Local), r.Files, r.Bytes)
			}
			fmt.Fprintf(tw, "total (listed)\t\t%d\t%d\n", files, bytes)
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	cmd.Flags().IntVar(&limit, "limit", 50, "list at most this many accounts")
	return cmd
}

func (a *app) mediaPruneCommand() *cobra.Command {
	var unattached, remote time.Duration
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove uploads never attached to a post, and old cached remote files",
		Long: `Remove uploads that were never attached to a post and are older than
--unattached-older-than (a day by default), files and records, and the cached
files of remote posts fetched longer ago than --remote-older-than (by default
COMMONPLACE_MEDIA_REMOTE_MAX_AGE); those are fetched again when viewed. A
running server does the same every hour.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if unattached < time.Minute || (remote != 0 && remote < time.Minute) {
				return fmt.Errorf("--unattached-older-than and --remote-older-than must be at least 1m")
			}
			return cobra.NoArgs(cmd, args)
		},
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			svc, closeDB, err := a.openMedia(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			total := 0
			for {
				n, err := svc.PruneUnattachedMedia(cmd.Context(), time.Now().Add(-unattached), 1000)
				if err != nil {
					return describe("prune media", err)
				}
				total += n
				if n < 1000 {
					break
				}
			}
			if remote == 0 {
				remote = svc.MediaLimitsInForce().RemoteAge
			}
			cached := 0
			for {
				n, err := svc.PruneRemoteMedia(cmd.Context(), time.Now().Add(-remote), 1000)
				if err != nil {
					return describe("prune media", err)
				}
				cached += n
				if n < 1000 {
					break
				}
			}
			fmt.Fprintf(a.Stdout, "removed %d unattached uploads and %d cached remote files\n", total, cached)
			return nil
		}),
	}
	cmd.Flags().DurationVar(&unattached, "unattached-older-than", federation.UnattachedMediaAge, "age after which an upload never attached is removed")
	cmd.Flags().DurationVar(&remote, "remote-older-than", 0, "age after which a cached remote file is removed (default: the configured media_remote_max_age)")
	return cmd
}

func (a *app) communityImageCommand() *cobra.Command {
	var avatar, header string
	var removeAvatar, removeHeader bool
	cmd := &cobra.Command{
		Use:   "image NAME [--avatar FILE] [--header FILE] [--remove-avatar] [--remove-header]",
		Short: "Set or remove a community's avatar (icon) and header (image)",
		Long: `Set a community's avatar and header from image files (JPEG, PNG, WebP or GIF),
processed as uploads are: re-encoded without metadata, avatars to at most
400×400 pixels, headers to 1500×500. They are served in the Group (icon,
image) and in the client API.`,
		Args: argsNamed("NAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			if avatar == "" && header == "" && !removeAvatar && !removeHeader {
				return fmt.Errorf("nothing to do: give --avatar, --header, --remove-avatar or --remove-header")
			}
			svc, closeDB, err := a.openMedia(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			ctx := cmd.Context()
			com, err := svc.DB.GetCommunityByName(ctx, args[0])
			if err != nil {
				return describe("find community", err)
			}
			actor := com.Actor
			for _, x := range []struct {
				purpose, file string
				remove        bool
			}{{storage.MediaAvatar, avatar, removeAvatar}, {storage.MediaHeader, header, removeHeader}} {
				var up *federation.Upload
				switch {
				case x.file != "":
					f, err := os.Open(x.file)
					if err != nil {
						return err
					}
					defer f.Close()
					info, err := f.Stat()
					if err != nil {
						return err
					}
					up = &federation.Upload{Name: filepath.Base(x.file), File: f, Size: info.Size()}
				case !x.remove:
					continue
				}
				if actor, err = svc.SetActorImage(ctx, actor, x.purpose, up); err != nil {
					return describe("set "+x.purpose, err)
				}
				if up != nil {
					fmt.Fprintf(a.Stdout, "%s of %s: %s\n", x.purpose, args[0], svc.FileURL(actorKey(actor, x.purpose)))
				} else {
					fmt.Fprintf(a.Stdout, "%s of %s removed\n", x.purpose, args[0])
				}
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&avatar, "avatar", "", "image `file` for the avatar")
	cmd.Flags().StringVar(&header, "header", "", "image `file` for the header")
	cmd.Flags().BoolVar(&removeAvatar, "remove-avatar", false, "remove the avatar")
	cmd.Flags().BoolVar(&removeHeader, "remove-header", false, "remove the header")
	return cmd
}

func actorKey(a *storage.Actor, purpose string) string {
	if purpose == storage.MediaHeader {
		return a.HeaderKey
	}
	return a.AvatarKey
}
