// The desk's one script: WebAuthn for enrolment, sign-in, decisions and filing. Every act is
// prepared by the desk (which checks it), signed here by the person's passkey over
// the challenge that commits to that act, and recorded by the desk with that
// signature. No inline script; served from the binary.
"use strict";

const b64url = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const b64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)));
const bytes = (text) =>
  Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

function status() {
  return document.getElementById("status");
}

function say(text, problem) {
  const el = status();
  if (!el) return;
  el.textContent = text;
  el.className = problem ? "problem" : "note";
}

// What went wrong, in the page's words when the passkey was not given (cancelled, not
// recognised, timed out): nothing was recorded.
function words(error) {
  const refused = status() && status().dataset.refused;
  if (refused && (error.name === "NotAllowedError" || error.name === "AbortError")) return refused;
  return error.message;
}

async function post(url, body) {
  const token = document.querySelector('meta[name="csrf"]').content;
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": token },
    body: JSON.stringify(body),
  });
  const reply = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(reply.error || response.statusText);
  return reply;
}

// Asks the passkey to sign a prepared act; returns what the desk records.
async function sign(prepared) {
  const credential = await navigator.credentials.get({
    publicKey: {
      challenge: bytes(prepared.challenge),
      allowCredentials: prepared.credentials.map((id) => ({ type: "public-key", id: bytes(id) })),
      userVerification: "required",
      timeout: 120000,
    },
  });
  return {
    pending: prepared.pending,
    credential: b64url(credential.rawId),
    authenticator_data: b64url(credential.response.authenticatorData),
    client_data_json: b64url(credential.response.clientDataJSON),
    signature: b64url(credential.response.signature),
  };
}

// Shows what the passkey is about to sign, as the ledger will record it, before the
// browser asks for the passkey. Text only: nothing of it is read as markup.
function showRecord(prepared) {
  const box = document.getElementById("record");
  const record = prepared && prepared.record;
  if (!box || !record) return;
  const d = box.dataset;
  const heading = document.createElement("h2");
  heading.textContent = d.heading;
  const list = document.createElement("dl");
  const add = (label, value) => {
    if (value === undefined || value === null || value === "") return;
    const term = document.createElement("dt");
    term.textContent = label;
    const detail = document.createElement("dd");
    detail.textContent = typeof value === "string" ? value : JSON.stringify(value);
    list.append(term, detail);
  };
  add(d.kind, record.kind);
  add(d.subject, record.subject);
  add(d.actor, record.actor);
  for (const [key, value] of Object.entries(record.payload || {})) add(key, value);
  box.replaceChildren(heading, list);
  box.hidden = false;
}

function supported() {
  if (window.PublicKeyCredential) return true;
  say(status().dataset.unsupported, true);
  return false;
}

async function enrol(button) {
  if (!supported()) return;
  const d = button.dataset;
  button.disabled = true;
  try {
    const made = await navigator.credentials.create({
      publicKey: {
        rp: { id: d.rp, name: "custody" },
        user: { id: bytes(d.user), name: d.name, displayName: d.name },
        challenge: crypto.getRandomValues(new Uint8Array(32)),
        pubKeyCredParams: [{ type: "public-key", alg: -7 }],
        authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
        attestation: "none",
        timeout: 120000,
      },
    });
    const prepared = await post(`/api/enrol/${d.token}/prepare`, {
      credential: b64url(made.rawId),
      public_key: b64(made.response.getPublicKey()),
    });
    say(status().dataset.signing, false);
    const reply = await post(`/api/enrol/${d.token}/finish`, await sign(prepared));
    say(status().dataset.done, false);
    // The passkey signs once a manager confirms it: the person reads its id out.
    button.hidden = true;
    const enrolled = document.getElementById("enrolled");
    document.getElementById("key-id").textContent = reply.key_id;
    enrolled.hidden = false;
    enrolled.scrollIntoView();
  } catch (error) {
    say(words(error), true);
    button.disabled = false;
  }
}

async function signIn(form) {
  if (!supported()) return;
  try {
    const prepared = await post("/api/signin/prepare", { name: form.elements.name.value });
    const reply = await post("/api/signin/finish", await sign(prepared));
    window.location.assign(reply.next);
  } catch (error) {
    say(words(error), true);
  }
}

async function decide(button) {
  if (!supported()) return;
  const id = button.dataset.request;
  const note = document.getElementById(`note-${id}`);
  const accept = document.getElementById(`accept-${id}`);
  button.disabled = true;
  try {
    const prepared = await post(`/api/requests/${id}/prepare`, {
      decision: button.dataset.decision,
      note: note ? note.value : "",
      accept_unencrypted: accept ? accept.value : "",
    });
    showRecord(prepared);
    const reply = await post(`/api/requests/${id}/finish`, await sign(prepared));
    window.location.assign(reply.next);
  } catch (error) {
    say(words(error), true);
    button.disabled = false;
  }
}

// Files what a form says (a carry-out, a request to send, a download), signed.
async function file(form) {
  if (!supported()) return;
  const button = form.querySelector("button[type=submit]");
  const body = {};
  for (const input of form.querySelectorAll("input")) {
    body[input.name] = input.type === "checkbox" ? input.checked : input.value;
  }
  button.disabled = true;
  try {
    const prepared = await post(`/api/file/${form.dataset.kind}/prepare`, body);
    showRecord(prepared);
    const reply = await post("/api/file/finish", await sign(prepared));
    window.location.assign(reply.next);
  } catch (error) {
    say(words(error), true);
    button.disabled = false;
  }
}

// Holds a retained item (with the reason typed beside it) or releases it, signed.
async function act(button) {
  if (!supported()) return;
  const id = button.dataset.id;
  const reason = document.getElementById(`hold-${id}`);
  button.disabled = true;
  try {
    const prepared = await post(`/api/retained/${id}/${button.dataset.act}/prepare`, {
      reason: reason ? reason.value : "",
    });
    showRecord(prepared);
    const reply = await post("/api/retained/finish", await sign(prepared));
    window.location.assign(reply.next);
  } catch (error) {
    say(words(error), true);
    button.disabled = false;
  }
}

// Invites a person to enrol a passkey: the token is made here and never sent; the
// desk records its SHA-256, signed with the manager's passkey; the link is shown here
// once.
async function invite(button) {
  if (!supported()) return;
  const token = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  button.disabled = true;
  try {
    const name = encodeURIComponent(button.dataset.name);
    const prepared = await post(`/api/people/${name}/invite/prepare`, { token_sha256: hex });
    showRecord(prepared);
    const reply = await post("/api/people/invite/finish", await sign(prepared));
    const invited = document.getElementById("invited");
    document.getElementById("invite-link").value = `${window.location.origin}/enrol/${token}`;
    document.getElementById("invite-expires").textContent = reply.expires;
    invited.hidden = false;
    invited.scrollIntoView();
    document.getElementById("invite-link").select();
  } catch (error) {
    say(words(error), true);
  }
  button.disabled = false;
}

// Signs a certificate off, with two confirmations of the passkey: first the
// statement of what the manager checked (the document as it stands, the time), which
// goes into the re-issued certificate; then the ledger entry that records it.
async function signOff(form) {
  if (!supported()) return;
  const id = form.dataset.certificate;
  const button = form.querySelector("button[type=submit]");
  const fields = {};
  for (const input of form.querySelectorAll("input")) fields[input.name] = input.value;
  button.disabled = true;
  try {
    const statement = await post(`/api/certificates/${id}/sign-off/statement`, {});
    showRecord(statement);
    const first = await sign(statement);
    const prepared = await post(`/api/certificates/${id}/sign-off/prepare`,
      Object.assign({}, fields, first, { at: statement.at }));
    showRecord(prepared);
    const reply = await post("/api/certificates/sign-off/finish", await sign(prepared));
    window.location.assign(reply.next);
  } catch (error) {
    say(words(error), true);
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const signOffForm = document.getElementById("sign-off");
  if (signOffForm) {
    signOffForm.addEventListener("submit", (event) => {
      event.preventDefault();
      signOff(signOffForm);
    });
  }
  for (const button of document.querySelectorAll("button.invite")) {
    button.addEventListener("click", () => invite(button));
  }
  for (const button of document.querySelectorAll("button.act")) {
    button.addEventListener("click", () => act(button));
  }
  for (const form of document.querySelectorAll("form.file")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      file(form);
    });
  }
  const enrolButton = document.getElementById("enrol");
  if (enrolButton) enrolButton.addEventListener("click", () => enrol(enrolButton));
  const form = document.getElementById("signin");
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      signIn(form);
    });
  }
  for (const button of document.querySelectorAll("button.decide")) {
    button.addEventListener("click", () => decide(button));
  }
});
