// The ShopLens demo page: uploads a photo to the gateway, follows the upload's Server-Sent Events
// (caption, answer, recommendations, dead-letter) and asks questions in one conversation.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { uploadId: null, events: null, conversationId: null, pending: new Map() };

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function status(message, isError) {
  $("upload-status").textContent = message;
  $("upload-status").classList.toggle("error", Boolean(isError));
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    return body.message || response.statusText;
  } catch (e) {
    return response.statusText;
  }
}

async function upload(file) {
  if (!file) return;
  if (state.events) state.events.close();
  state.conversationId = null;
  state.pending.clear();
  $("conversation").replaceChildren();
  $("products").replaceChildren();
  $("caption-block").hidden = true;
  $("products-status").textContent = "Recommendations appear once the photo is analysed.";
  const preview = $("preview");
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  status("Uploading…");
  const form = new FormData();
  form.append("image", file);
  const response = await fetch("/v1/uploads", { method: "POST", body: form });
  if (!response.ok) {
    status("Upload refused: " + (await errorMessage(response)), true);
    return;
  }
  const body = await response.json();
  state.uploadId = body.uploadId;
  // One conversation per photo: every question about it carries this id, so the model sees the
  // earlier turns.
  state.conversationId = "conv-" + body.uploadId;
  status("Uploaded. Analysing the photo…");
  $("question-input").disabled = false;
  $("ask-button").disabled = false;
  listen(body.events || "/v1/uploads/" + body.uploadId + "/events");
}

function listen(path) {
  const events = new EventSource(path);
  state.events = events;
  events.addEventListener("caption", (e) => showCaption(JSON.parse(e.data)));
  events.addEventListener("answer", (e) => showAnswer(JSON.parse(e.data)));
  events.addEventListener("recommendations", (e) => showProducts(JSON.parse(e.data)));
  events.addEventListener("dead-letter", (e) => {
    const d = JSON.parse(e.data);
    status("Processing failed at " + d.stage + ": " + d.errorMessage, true);
  });
}

function showCaption(caption) {
  $("caption").textContent = caption.caption;
  const list = $("attributes");
  list.replaceChildren();
  (caption.attributes || []).forEach((a) => {
    list.append(el("dt", {}, a.name), el("dd", {}, a.value));
  });
  $("caption-block").hidden = false;
  status("Photo analysed.");
}

async function ask(text) {
  const item = el("li", { class: "turn" });
  const answer = el("p", { class: "answer pending", "data-testid": "answer" }, "Thinking…");
  item.append(el("p", { class: "question" }, text), answer);
  $("conversation").append(item);
  const request = { text, conversationId: state.conversationId };
  const response = await fetch("/v1/uploads/" + state.uploadId + "/questions", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(request),
  });
  if (!response.ok) {
    answer.textContent = "Refused: " + (await errorMessage(response));
    answer.className = "answer error";
    return;
  }
  const body = await response.json();
  answer.dataset.questionId = body.questionId;
  const early = state.pending.get(body.questionId);
  if (early) fillAnswer(answer, early);
  else state.pending.set(body.questionId, answer);
}

function showAnswer(question) {
  const target = state.pending.get(question.questionId);
  if (target instanceof HTMLElement) {
    fillAnswer(target, question);
    state.pending.delete(question.questionId);
  } else {
    // The answer overtook the POST's reply: keep it until the question's element knows its id.
    state.pending.set(question.questionId, question);
  }
}

function fillAnswer(node, question) {
  node.textContent = question.answer ? question.answer.answer : "";
  node.className = "answer";
}

function showProducts(recommendations) {
  const cards = $("products");
  cards.replaceChildren();
  const products = recommendations.products || [];
  $("products-status").textContent = products.length
    ? products.length + " matching products."
    : "No matching products" + (recommendations.emptyReason ? " (" + recommendations.emptyReason + ")." : ".");
  products.forEach((ranked) => {
    const product = ranked.product || {};
    const card = el("li", { class: "card", "data-testid": "product-card" });
    if (product.image && product.image.uri) {
      card.append(el("img", { src: product.image.uri, alt: product.title || ranked.productId, loading: "lazy" }));
    }
    card.append(el("h3", {}, product.title || ranked.productId));
    let stock = "Stock unknown";
    if (product.inStock === true) {
      stock = product.stockQuantity != null ? product.stockQuantity + " in stock" : "In stock";
    } else if (product.inStock === false) {
      stock = "Out of stock";
    }
    card.append(el("p", { class: "stock" }, stock));
    if (recommendations.tryOnEligible) card.append(el("span", { class: "badge" }, "Try-on"));
    cards.append(card);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const input = $("photo-input");
  const zone = $("drop-zone");
  input.addEventListener("change", () => upload(input.files[0]));
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    upload(e.dataTransfer.files[0]);
  });
  $("question-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const field = $("question-input");
    const text = field.value.trim();
    if (!text || !state.uploadId) return;
    field.value = "";
    ask(text);
  });
});
