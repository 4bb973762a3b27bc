// The report form, one short step at a time on a phone. Without JavaScript it is one long form that works
// the same; everything shown here is also rendered by the server.
(function () {
  "use strict";
  var form = document.querySelector("[data-report-form]");
  if (!form) return;

  // Sections with the same data-step show together: a teacher's form folds seven sections into four steps.
  var steps = [];
  Array.prototype.forEach.call(form.querySelectorAll(".report-step"), function (section) {
    var last = steps[steps.length - 1];
    if (last && last.key === section.dataset.step) last.sections.push(section);
    else steps.push({ key: section.dataset.step, sections: [section] });
  });
  var submit = form.querySelector("[data-submit-report]");
  var progress = form.querySelector("[data-step-progress]");
  var current = 0;

  function checked(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : "";
  }

  function toggle(selector, show) {
    Array.prototype.forEach.call(form.querySelectorAll(selector), function (el) { el.hidden = !show; });
  }

  // Answers that reveal more: the emergency numbers at once, the adults' questions, who consented instead, the
  // phone number for a call; and the last step's words follow who is reporting.
  function reveal() {
    forgetAccountContact();
    toggle("[data-danger-help]", checked("danger_now") === "yes");
    var selfHarm = form.querySelector("[data-self-harm]");
    toggle("[data-self-harm-help]", Boolean(selfHarm && selfHarm.checked));
    var kind = checked("reporter_kind");
    var adult = ["parent", "teacher", "other"].indexOf(kind) !== -1;
    var voice = adult ? "adult" : kind === "friend" ? "friend" : "child";
    toggle("[data-adult-only]", adult);
    toggle("[data-teacher-only]", kind === "teacher");
    Array.prototype.forEach.call(form.querySelectorAll("[data-voice]"), function (el) {
      el.hidden = el.dataset.voice !== voice;
    });
    // "kamu" or "Anda" everywhere on the page, once the reporter said who they are (else as the server chose).
    if (kind) {
      Array.prototype.forEach.call(document.querySelectorAll("[data-speak]"), function (el) {
        el.hidden = el.dataset.speak !== (adult ? "anda" : "kamu");
      });
    }
    toggle("[data-consent-instead]", adult && checked("parent_consent") === "parent_may_harm");
    toggle("[data-contact-phone]", ["phone", "whatsapp"].indexOf(checked("contact_method")) !== -1);
  }

  // The teacher's way to be contacted, remembered from her account, is hers only: when someone else is said to be
  // writing, or the report goes without her account, it is cleared (back to messages in the app).
  function forgetAccountContact() {
    var remembered = form.querySelector("[data-from-account]");
    if (!remembered || (checked("reporter_kind") === "teacher" && checked("send_as") !== "anonymous")) return;
    remembered.removeAttribute("data-from-account");
    Array.prototype.forEach.call(remembered.querySelectorAll("input"), function (input) { input.value = ""; });
    var app = form.querySelector('input[name="contact_method"][value="app"]');
    if (app) app.checked = true;
  }

  function show(index) {
    current = Math.max(0, Math.min(index, steps.length - 1));
    steps.forEach(function (step, i) {
      step.sections.forEach(function (section) { section.hidden = i !== current; });
    });
    form.querySelectorAll("[data-step-back]").forEach(function (b) { b.hidden = current === 0; });
    form.querySelectorAll("[data-step-next]").forEach(function (b) { b.hidden = current === steps.length - 1; });
    if (submit) submit.hidden = current !== steps.length - 1;
    if (progress) {
      progress.textContent = progress.dataset.template
        .replace("{n}", String(current + 1)).replace("{total}", String(steps.length));
    }
  }

  function focusStep() {
    var heading = steps[current].sections[0].querySelector("h2");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  }

  form.classList.add("report-form--steps");
  form.querySelectorAll("[data-step-nav]").forEach(function (nav) { nav.hidden = false; });
  form.addEventListener("change", reveal);
  // On a small phone the numbers open below the fold: whoever just said someone is in danger sees them at once.
  form.addEventListener("change", function (event) {
    if (event.target.name !== "danger_now" || event.target.value !== "yes") return;
    var help = form.querySelector("[data-danger-help]");
    if (help && !help.hidden) help.scrollIntoView({ block: "nearest" });
  });
  form.addEventListener("click", function (event) {
    var target = event.target.closest("[data-step-next], [data-step-back]");
    if (!target) return;
    event.preventDefault();
    show(current + (target.hasAttribute("data-step-next") ? 1 : -1));
    focusStep();
  });

  // After a server answer with errors, open the step that holds the first one.
  var firstError = form.querySelector(".field--error");
  var start = 0;
  if (firstError) {
    steps.forEach(function (step, i) {
      step.sections.forEach(function (section) { if (section.contains(firstError) && !start) start = i; });
    });
  }
  reveal();
  show(start);
})();
