// The client libraries of the apps members use, against a live
// Commonplace instance: masto.js 8 (Elk, Phanpy) and megalodon 10
// (Whalebird, Fedistar). TestRealAppLibraries starts the instance and
// runs this file with node's test runner; it sets
//   COMMONPLACE_URL       the instance's base URL
//   COMMONPLACE_USER      a member's username, COMMONPLACE_PASSWORD theirs
//   COMMONPLACE_COMMUNITY a community's name
// Each test is a main screen of an app: sign-in, home, notifications (v1
// and v2), compose, edit (source), @-autocomplete, and the screens around
// them (profile, bookmarks, lists, filters), a poll and a push subscription.

import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRestAPIClient } from "masto";
import generator, { detector } from "megalodon";

const base = process.env.COMMONPLACE_URL;
const user = process.env.COMMONPLACE_USER;
const password = process.env.COMMONPLACE_PASSWORD;
const community = process.env.COMMONPLACE_COMMUNITY;
const photo = process.env.COMMONPLACE_PHOTO; // a JPEG whose EXIF holds a GPS position
const redirectUri = "urn:ietf:wg:oauth:2.0:oob";

// signIn goes through the authorize page as a browser would: the page,
// its CSRF token and cookie, the login form, the code shown out of band,
// then the token exchange with the PKCE verifier.
async function signIn(clientId, clientSecret, scope) {
  const verifier = crypto.randomBytes(32).toString("base64url");
  const challenge = crypto.createHash("sha256").update(verifier).digest("base64url");
  const q = new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: redirectUri, scope,
    code_challenge: challenge, code_challenge_method: "S256",
  });
  const page = await fetch(`${base}/oauth/authorize?${q}`);
  assert.equal(page.status, 200, "authorize page");
  const html = await page.text();
  const cookie = page.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(m[1], m[2].replaceAll("&amp;", "&").replaceAll("&#43;", "+").replaceAll("&#34;", '"').replaceAll("&#39;", "'"));
  }
  form.set("username", user);
  form.set("password", password);
  form.set("decision", "approve");
  const done = await fetch(`${base}/oauth/authorize`, {
    method: "POST", body: form, redirect: "manual",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
  });
  const body = await done.text();
  assert.equal(done.status, 200, `login: ${body.slice(0, 300)}`);
  const code = body.match(/<code class="oauth-code">([^<]+)<\/code>/)?.[1];
  assert.ok(code, "the page shows the code");
  const res = await fetch(`${base}/oauth/token`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({
      grant_type: "authorization_code", code, client_id: clientId, client_secret: clientSecret,
      redirect_uri: redirectUri, code_verifier: verifier, scope,
    }),
  });
  assert.equal(res.status, 200, "token exchange");
  return (await res.json()).access_token;
}

let token;

test("masto.js: register the app and sign in (Elk, Phanpy)", async () => {
  const anon = createRestAPIClient({ url: base });
  const app = await anon.v1.apps.create({
    clientName: "Phanpy", redirectUris: redirectUri, scopes: "read write follow push", website: "https://phanpy.social",
  });
  assert.ok(app.clientId && app.clientSecret);
  token = await signIn(app.clientId, app.clientSecret, "read write follow push");
  assert.ok(token);
  const instance = await anon.v2.instance.fetch();
  assert.match(instance.version, /^4\.3\./);
});

test("masto.js: the main screens", async () => {
  const masto = createRestAPIClient({ url: base, accessToken: token });
  const me = await masto.v1.accounts.verifyCredentials();
  assert.equal(me.username, user);

  // Compose: a post to the community, with a hashtag.
  const post = await masto.v1.statuses.create({ status: `@${community} How do you hand over a night shift? #handover` });
  assert.equal(post.account.id, me.id);
  assert.deepEqual(post.tags.map((t) => t.name), ["handover"]);

  // Home shows it as the community's boost; notifications v1 and v2 load.
  const home = await masto.v1.timelines.home.list({ limit: 10 });
  assert.ok(home.some((s) => s.id === post.id || s.reblog?.id === post.id), "post in home");
  await masto.v1.notifications.list({ limit: 20 });
  const grouped = await masto.v2.notifications.list({ limit: 20 });
  assert.ok(Array.isArray(grouped.notificationGroups));
  await masto.v1.notifications.unreadCount.fetch();
  await masto.v2.notifications.policy.fetch();

  // Edit starts from the source, then saves; the history has both.
  const source = await masto.v1.statuses.$select(post.id).source.fetch();
  assert.match(source.text, /night shift/);
  const edited = await masto.v1.statuses.$select(post.id).update({ status: source.text.replace("night", "late") });
  assert.match(edited.content, /late shift/);
  const history = await masto.v1.statuses.$select(post.id).history.list();
  assert.equal(history.length, 2);

  // @-autocomplete in the composer.
  const found = await masto.v1.accounts.search.list({ q: community.slice(0, 3), limit: 5 });
  assert.ok(found.some((a) => a.username === community && a.group), "community found by prefix");

  // Around the main screens.
  await masto.v1.statuses.$select(post.id).bookmark();
  const bookmarks = await masto.v1.bookmarks.list();
  assert.equal(bookmarks[0].id, post.id);
  const list = await masto.v1.lists.create({ title: "Shifts" });
  await masto.v1.lists.$select(list.id).remove();
  const filter = await masto.v2.filters.create({ title: "Spoilers", context: ["home"], keywordsAttributes: [{ keyword: "spoiler" }] });
  assert.equal(filter.keywords.length, 1);
  await masto.v2.filters.$select(filter.id).remove();
  const tag = await masto.v1.tags.$select("handover").fetch();
  assert.equal(tag.name, "handover");
  const profile = await masto.v1.accounts.updateCredentials({ displayName: "Night nurse", fieldsAttributes: [{ name: "Ward", value: "7" }] });
  assert.equal(profile.fields[0].name, "Ward");
  await masto.v1.accounts.$select(me.id).followers.list();
  await masto.v1.preferences.fetch();
  await masto.v1.markers.fetch({ timeline: ["home", "notifications"] });
});

test("masto.js: a poll and a push subscription (Elk, Phanpy)", async () => {
  const masto = createRestAPIClient({ url: base, accessToken: token });
  const post = await masto.v1.statuses.create({
    status: `@${community} Handover at the bedside or at the desk?`,
    poll: { options: ["Bedside", "Desk"], expiresIn: 3600, multiple: false },
  });
  assert.deepEqual(post.poll.options.map((o) => o.title), ["Bedside", "Desk"]);
  assert.equal(post.poll.voted, true);
  assert.deepEqual(post.poll.ownVotes, []);
  const poll = await masto.v1.polls.$select(post.poll.id).fetch();
  assert.equal(poll.expired, false);
  assert.equal(poll.votesCount, 0);
  await assert.rejects(masto.v1.polls.$select(post.poll.id).votes.create({ choices: [0] }), "no vote in one's own poll");

  // Web Push: subscribe with the keys a browser makes; the server key is
  // the instance's.
  const instance = await masto.v2.instance.fetch();
  const ecdh = crypto.createECDH("prime256v1");
  ecdh.generateKeys();
  const sub = await masto.v1.push.subscription.create({
    subscription: { endpoint: "https://push.example/send/1", keys: { p256dh: ecdh.getPublicKey("base64url"), auth: crypto.randomBytes(16).toString("base64url") } },
    data: { alerts: { mention: true, follow: true } },
  });
  assert.equal(sub.serverKey, instance.configuration.vapid.publicKey);
  assert.equal(sub.alerts.mention, true);
  assert.equal(sub.alerts.favourite, false);
  const updated = await masto.v1.push.subscription.update({ data: { alerts: { favourite: true } } });
  assert.equal(updated.alerts.favourite, true);
  assert.equal((await masto.v1.push.subscription.fetch()).id, sub.id);
  await masto.v1.push.subscription.remove();
  await assert.rejects(masto.v1.push.subscription.fetch(), "removed");
});

test("masto.js: a photo with alt text (Elk, Phanpy)", async () => {
  const masto = createRestAPIClient({ url: base, accessToken: token });
  const original = await readFile(photo);
  assert.ok(original.includes(Buffer.from("Exif\0")), "the fixture carries EXIF");
  const media = await masto.v2.media.create({
    file: new Blob([original], { type: "image/jpeg" }), description: "The night shift's board", focus: "0.0,0.5",
  });
  assert.equal(media.type, "image");
  assert.ok(media.blurhash, "blurhash");
  assert.equal(media.meta.original.width, 300);
  assert.equal(media.meta.focus.y, 0.5);
  const post = await masto.v1.statuses.create({ status: `@${community} Our board`, mediaIds: [media.id] });
  assert.equal(post.mediaAttachments.length, 1);
  assert.equal(post.mediaAttachments[0].description, "The night shift's board");
  const served = Buffer.from(await (await fetch(post.mediaAttachments[0].url)).arrayBuffer());
  assert.ok(served.length > 0 && !served.includes(Buffer.from("Exif\0")), "the served photo has no EXIF");
  const preview = await fetch(post.mediaAttachments[0].previewUrl);
  assert.equal(preview.headers.get("content-type"), "image/jpeg");
});

test("megalodon: detects Mastodon and loads the screens (Whalebird, Fedistar)", async () => {
  assert.equal(await detector(base), "mastodon");
  const client = generator("mastodon", base, token);
  const me = await client.verifyAccountCredentials();
  assert.equal(me.data.username, user);
  const instance = await client.getInstance();
  assert.ok(instance.data.uri);
  const home = await client.getHomeTimeline({ limit: 10 });
  assert.ok(home.data.length > 0);
  await client.getNotifications({ limit: 10 });
  const posted = await client.postStatus(`@${community} Whalebird says hello`);
  const source = await client.getStatusSource(posted.data.id);
  assert.match(source.data.text, /Whalebird/);
  const found = await client.searchAccount(community.slice(0, 3));
  assert.ok(found.data.some((a) => a.username === community));
  await client.getBookmarks();
  await client.getLists();
  await client.getFilters();
  await client.getPreferences();
  await client.getMarkers(["home", "notifications"]);
  await client.getRelationships([me.data.id]);
  await client.getAccountStatuses(me.data.id, { limit: 5 });
});
