package mastoapi

import "net/http"

// memberRoutes are the daily surface of issue 10: what members do besides
// posting, and what apps read on their main screens.
func (a *API) memberRoutes() {
	get, post := http.MethodGet, http.MethodPost

	// Accounts.
	a.add(get, "/api/v1/accounts", public(), a.accountsByID)
	a.add(http.MethodPatch, "/api/v1/accounts/update_credentials", userScoped("write:accounts"), a.updateCredentials)
	a.add(get, "/api/v1/accounts/familiar_followers", userScoped("read:follows"), a.familiarFollowers)
	a.add(get, "/api/v1/accounts/:id/followers", public(), a.follows(true))
	a.add(get, "/api/v1/accounts/:id/following", public(), a.follows(false))
	a.add(get, "/api/v1/accounts/:id/featured_tags", public(), a.accountFeaturedTags)
	a.add(get, "/api/v1/accounts/:id/lists", userScoped("read:lists"), a.accountLists)
	a.add(post, "/api/v1/accounts/:id/mute", userScoped("write:mutes", "follow"), a.accountAction(a.mute))
	a.add(post, "/api/v1/accounts/:id/unmute", userScoped("write:mutes", "follow"), a.accountAction(a.unmute))
	a.add(post, "/api/v1/accounts/:id/block", userScoped("write:blocks", "follow"), a.accountAction(a.block))
	a.add(post, "/api/v1/accounts/:id/unblock", userScoped("write:blocks", "follow"), a.accountAction(a.unblock))
	a.add(post, "/api/v1/accounts/:id/note", userScoped("write:accounts"), a.accountAction(a.setNote))
	a.add(post, "/api/v1/accounts/:id/remove_from_followers", userScoped("write:follows", "follow"), a.accountAction(a.removeFromFollowers))
	a.add(get, "/api/v1/preferences", userScoped("read:accounts"), a.preferences)
	a.add(get, "/api/v1/mutes", userScoped("read:mutes", "follow"), a.mutes)
	a.add(get, "/api/v1/blocks", userScoped("read:blocks", "follow"), a.blocks)
	a.add(get, "/api/v1/domain_blocks", userScoped("read:blocks", "follow"), a.domainBlocks)
	a.add(post, "/api/v1/domain_blocks", userScoped("write:blocks", "follow"), a.domainBlocks)
	a.add(http.MethodDelete, "/api/v1/domain_blocks", userScoped("write:blocks", "follow"), a.domainBlocks)

	// Statuses.
	a.add(get, "/api/v1/statuses", public(), a.statusesByID)
	a.add(get, "/api/v1/statuses/:id/source", userScoped("read:statuses"), a.statusSource)
	a.add(get, "/api/v1/polls/:id", public(), a.getPoll)
	a.add(post, "/api/v1/polls/:id/votes", userScoped("write:statuses"), a.votePoll)
	a.add(get, "/api/v1/statuses/:id/history", public(), a.statusHistory)
	a.add(post, "/api/v1/statuses/:id/reblog", userScoped("write:statuses"), a.reblog)
	a.add(post, "/api/v1/statuses/:id/unreblog", userScoped("write:statuses"), a.unreblog)
	a.add(post, "/api/v1/statuses/:id/bookmark", userScoped("write:bookmarks"), a.markStatus(bookmarkAs(true)))
	a.add(post, "/api/v1/statuses/:id/unbookmark", userScoped("write:bookmarks"), a.markStatus(bookmarkAs(false)))
	a.add(post, "/api/v1/statuses/:id/pin", userScoped("write:accounts"), a.markStatus(pinAs(true)))
	a.add(post, "/api/v1/statuses/:id/unpin", userScoped("write:accounts"), a.markStatus(pinAs(false)))
	a.add(post, "/api/v1/statuses/:id/mute", userScoped("write:mutes"), a.muteConversation(true))
	a.add(post, "/api/v1/statuses/:id/unmute", userScoped("write:mutes"), a.muteConversation(false))
	a.add(get, "/api/v1/statuses/:id/favourited_by", public(), a.statusActors("likes"))
	a.add(get, "/api/v1/statuses/:id/reblogged_by", public(), a.statusActors("reblogs"))
	a.add(get, "/api/v1/bookmarks", userScoped("read:bookmarks"), a.markedStatuses("bookmarks"))
	a.add(get, "/api/v1/favourites", userScoped("read:favourites"), a.markedStatuses("likes"))

	// Filters, v2 and v1.
	a.add(get, "/api/v2/filters", userScoped("read:filters"), a.listFilters)
	a.add(post, "/api/v2/filters", userScoped("write:filters"), a.filterWrite(false))
	a.add(get, "/api/v2/filters/keywords/:id", userScoped("read:filters"), a.filterKeyword)
	a.add(http.MethodPut, "/api/v2/filters/keywords/:id", userScoped("write:filters"), a.filterKeyword)
	a.add(http.MethodDelete, "/api/v2/filters/keywords/:id", userScoped("write:filters"), a.filterKeyword)
	a.add(get, "/api/v2/filters/statuses/:id", userScoped("read:filters"), a.filterStatus)
	a.add(http.MethodDelete, "/api/v2/filters/statuses/:id", userScoped("write:filters"), a.filterStatus)
	a.add(get, "/api/v2/filters/:id", userScoped("read:filters"), a.getFilter)
	a.add(http.MethodPut, "/api/v2/filters/:id", userScoped("write:filters"), a.filterWrite(true))
	a.add(http.MethodDelete, "/api/v2/filters/:id", userScoped("write:filters"), a.deleteFilter)
	a.add(get, "/api/v2/filters/:id/keywords", userScoped("read:filters"), a.filterKeywords)
	a.add(post, "/api/v2/filters/:id/keywords", userScoped("write:filters"), a.addFilterKeyword)
	a.add(get, "/api/v2/filters/:id/statuses", userScoped("read:filters"), a.filterStatuses)
	a.add(post, "/api/v2/filters/:id/statuses", userScoped("write:filters"), a.addFilterStatus)
	a.add(get, "/api/v1/filters", userScoped("read:filters"), a.listFiltersV1)
	a.add(post, "/api/v1/filters", userScoped("write:filters"), a.createFilterV1)
	a.add(get, "/api/v1/filters/:id", userScoped("read:filters"), a.filterV1)
	a.add(http.MethodPut, "/api/v1/filters/:id", userScoped("write:filters"), a.filterV1)
	a.add(http.MethodDelete, "/api/v1/filters/:id", userScoped("write:filters"), a.filterV1)

	// Lists.
	a.add(get, "/api/v1/lists", userScoped("read:lists"), a.lists)
	a.add(post, "/api/v1/lists", userScoped("write:lists"), a.saveList(false))
	a.add(get, "/api/v1/lists/:id", userScoped("read:lists"), a.getList)
	a.add(http.MethodPut, "/api/v1/lists/:id", userScoped("write:lists"), a.saveList(true))
	a.add(http.MethodDelete, "/api/v1/lists/:id", userScoped("write:lists"), a.deleteList)
	a.add(get, "/api/v1/lists/:id/accounts", userScoped("read:lists"), a.listAccounts)
	a.add(post, "/api/v1/lists/:id/accounts", userScoped("write:lists"), a.listAccounts)
	a.add(http.MethodDelete, "/api/v1/lists/:id/accounts", userScoped("write:lists"), a.listAccounts)
	a.add(get, "/api/v1/timelines/list/:list_id", userScoped("read:lists"), a.listTimeline)

	// Hashtags.
	a.add(get, "/api/v1/tags/:name", public(), a.getTag)
	a.add(post, "/api/v1/tags/:name/follow", userScoped("write:follows", "follow"), a.followTag(true))
	a.add(post, "/api/v1/tags/:name/unfollow", userScoped("write:follows", "follow"), a.followTag(false))
	a.add(get, "/api/v1/followed_tags", userScoped("read:follows", "follow"), a.followedTags)
	a.add(get, "/api/v1/featured_tags", userScoped("read:accounts"), a.featuredTags)
	a.add(post, "/api/v1/featured_tags", userScoped("write:accounts"), a.featureTag)
	a.add(get, "/api/v1/featured_tags/suggestions", userScoped("read:accounts"), a.featuredTagSuggestions)
	a.add(http.MethodDelete, "/api/v1/featured_tags/:id", userScoped("write:accounts"), a.unfeatureTag)

	// Grouped notifications (4.3) and the policy.
	a.add(get, "/api/v2/notifications", userScoped("read:notifications"), a.notificationsV2)
	a.add(get, "/api/v2/notifications/unread_count", userScoped("read:notifications"), a.unreadCount(true))
	a.add(get, "/api/v2/notifications/policy", userScoped("read:notifications"), a.notificationPolicy)
	a.add(http.MethodPatch, "/api/v2/notifications/policy", userScoped("write:notifications"), a.notificationPolicy)
	a.add(get, "/api/v2/notifications/:group_key", userScoped("read:notifications"), a.notificationGroup)
	a.add(post, "/api/v2/notifications/:group_key/dismiss", userScoped("write:notifications"), a.dismissGroup)
	a.add(get, "/api/v2/notifications/:group_key/accounts", userScoped("read:notifications"), a.groupAccounts)

	// Notification requests (senders the policy filtered).
	a.add(get, "/api/v1/notifications/requests/merged", userScoped("read:notifications"), a.requestsMerged)
	a.add(post, "/api/v1/notifications/requests/accept", userScoped("write:notifications"), a.decideRequests(true))
	a.add(post, "/api/v1/notifications/requests/dismiss", userScoped("write:notifications"), a.decideRequests(false))
	a.add(get, "/api/v1/notifications/requests/:id", userScoped("read:notifications"), a.notificationRequests)
	a.add(post, "/api/v1/notifications/requests/:id/accept", userScoped("write:notifications"), a.decideRequests(true))
	a.add(post, "/api/v1/notifications/requests/:id/dismiss", userScoped("write:notifications"), a.decideRequests(false))

	// Discovery and the instance.
	a.add(get, "/api/v1/instance/peers", public(), a.peers)
	a.add(get, "/api/v1/instance/activity", public(), a.activity)
	a.add(get, "/api/v1/instance/extended_description", open(), a.extendedDescription)
	a.add(get, "/api/v1/directory", public(), a.directory)
	a.add(get, "/api/v1/suggestions", userScoped("read"), a.suggestions(false))
	a.add(get, "/api/v2/suggestions", userScoped("read"), a.suggestions(true))
	a.add(http.MethodDelete, "/api/v1/suggestions/:account_id", userScoped("read"), a.dismissSuggestion)
	a.add(get, "/api/v1/trends/tags", public(), a.trendingTags)
	a.add(get, "/api/v1/trends", public(), a.trendingTags)
	a.add(get, "/api/v1/trends/statuses", public(), a.trendingStatuses)
	a.add(get, "/.well-known/oauth-authorization-server", open(), a.oauthMetadata)
}
