// A real OpenID provider (oidc-provider) on loopback, configured the way ID-porten and HelseID
// behave, for Følge's sign-in tests. Started by tests/oidc_provider.py with one argument: a
// JSON file with the provider's signing keys, the clients (their public keys, redirect and
// logout addresses) and the test accounts. Prints "READY <issuer>" once it listens.
//
// What it requires, as ID-porten does: pushed authorization requests (PAR) only, PKCE with
// S256, client authentication by private_key_jwt, DPoP where the client asks for bound tokens,
// the acr values idporten-loa-substantial and idporten-loa-high, and the claims pid (the
// national identity number) and helseid://claims/hpr/hpr_number in the ID token.
//
// Its sign-in page is a form: the test person (login_hint, if any) and "Sign in". The account decides
// the acr: the one the client asked for, unless the account is configured with a fixed one
// (to test a level lower than required). The test presses the button (or a browser does).
//
// With a "fhir" entry in the configuration it also issues access tokens to record systems, as
// HelseID does for system-to-system calls: the client-credentials grant with private_key_jwt,
// for one resource (Følge's FHIR base URL), as JWT access tokens (RFC 9068) carrying the
// SMART system scopes the client asked for and is registered with.
import fs from "node:fs";
import http from "node:http";
import Provider, { errors } from "oidc-provider";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const accounts = config.accounts;
const fhir = config.fhir || null;

function resourceIndicators() {
  if (!fhir) return { enabled: false };
  return {
    enabled: true,
    // Only the record systems' grant gets the FHIR resource; sign-ins stay as they are.
    defaultResource: (ctx, client) =>
      (client.grantTypes.includes("client_credentials") ? fhir.resource : undefined),
    useGrantedResource: () => true,
    getResourceServerInfo: (ctx, resourceIndicator) => {
      if (resourceIndicator !== fhir.resource) throw new errors.InvalidTarget();
      return {
        scope: fhir.scopes.join(" "),
        audience: fhir.resource,
        accessTokenTTL: fhir.ttl || 300,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "RS256" } },
      };
    },
  };
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  acrValues: ["idporten-loa-substantial", "idporten-loa-high"],
  claims: {
    openid: ["sub", "pid"],
    "helseid://scopes/identity/hpr_number": ["helseid://claims/hpr/hpr_number"],
  },
  scopes: ["openid", "helseid://scopes/identity/hpr_number", ...(fhir ? fhir.scopes : [])],
  conformIdTokenClaims: false, // the claims go in the ID token, as ID-porten puts pid there
  clientAuthMethods: ["private_key_jwt"],
  pkce: { required: () => true },
  features: {
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
    dPoP: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    devInteractions: { enabled: false },
    clientCredentials: { enabled: Boolean(fhir) },
    resourceIndicators: resourceIndicators(),
  },
  ttl: config.ttl || {},
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        const claims = { sub: id };
        if (account.pid) claims.pid = account.pid;
        if (account.hpr) claims["helseid://claims/hpr/hpr_number"] = account.hpr;
        return claims;
      },
    };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.proxy = false;

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>${title}</h1>${body}</main></body></html>`;
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([\w-]+)(\/login)?$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const hint = details.params.login_hint || "";
  if (ctx.method === "GET") {
    ctx.type = "html";
    ctx.body = page("Test ID-porten", `<form method="post" action="/interaction/${details.uid}/login">
<label>Test person <input name="account" value="${escape(hint)}"></label>
<button type="submit">Sign in</button></form>`);
    return undefined;
  }
  const form = await formBody(ctx.req);
  const accountId = form.get("account") || hint;
  const account = accounts[accountId];
  if (!account) {
    ctx.status = 400;
    ctx.body = page("Unknown test account", `<p>${escape(accountId)}</p>`);
    return undefined;
  }
  const asked = (details.params.acr_values || "idporten-loa-substantial").split(" ")[0];
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  await grant.save();
  const result = {
    login: { accountId, acr: account.acr || asked, amr: [account.amr || "BankID"] },
    consent: { grantId: grant.jti },
  };
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  return undefined;
});

const server = http.createServer(provider.callback());
const url = new URL(config.issuer);
server.listen(Number(url.port), url.hostname, () => {
  process.stdout.write(`READY ${config.issuer}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
