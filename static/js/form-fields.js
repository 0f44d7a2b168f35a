// Følge: read what a form holds, and put it back. Shared by the offline queue
// (offline-queue.js) and drafts kept on the phone (drafts.js).

// [name, value] pairs as the form would send them, without the CSRF token (it is
// fetched fresh when the form is sent again).
export const fieldsOf = (form) =>
  [...new FormData(form).entries()].filter(([name, value]) => name !== "csrf_token" && typeof value === "string");

// Put pairs back: radio buttons and checkboxes by value, other fields by name.
export const fillForm = (form, pairs) => {
  const checked = new Map();
  for (const [name, value] of pairs) {
    if (!checked.has(name)) checked.set(name, []);
    checked.get(name).push(value);
  }
  for (const [name, values] of checked) {
    const fields = form.querySelectorAll(`[name="${CSS.escape(name)}"]`);
    for (const field of fields) {
      if (field.type === "radio" || field.type === "checkbox") field.checked = values.includes(field.value);
      else field.value = values[0];
    }
  }
};
