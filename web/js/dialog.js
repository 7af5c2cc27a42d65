// Modal dialogs built on <dialog>.showModal(): focus is trapped by the
// browser, Escape closes. Each dialog is created when opened and removed
// when closed, so its labels never clash with the page's.

import { h, uid } from './dom.js';
import { errorBox } from './ui.js';

/**
 * Opens a modal dialog.
 *   title:        heading text (the dialog's accessible name)
 *   intro:        optional paragraph under the heading
 *   fields:       nodes for the body (labelled controls)
 *   confirmLabel: text of the confirming button
 *   danger:       style the confirming button as destructive
 *   canConfirm:   optional () => bool; the button is disabled while false
 *                 (re-checked on every input and change event)
 *   validate:     optional () => string | null: a message shown instead of
 *                 submitting
 *   onConfirm:    async () => void; a thrown error is shown in the dialog's
 *                 role="alert"; on success the dialog closes
 *   onClosed:     optional callback after the dialog closed
 * Returns {dialog, close}.
 */
export function openDialog({ title, intro, fields = [], confirmLabel = 'Confirm', danger = false,
  canConfirm, validate, onConfirm, onClosed }) {
  const headingId = uid('dlg');
  const opener = document.activeElement;
  const errorSlot = h('div', { class: 'dialog-error' });
  const confirm = h('button', { type: 'submit', class: danger ? 'btn btn-danger' : 'btn btn-primary' }, confirmLabel);
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const form = h('form', { class: 'dialog-form', novalidate: true },
    h('h2', { id: headingId }, title),
    intro ? h('p', { class: 'dialog-intro' }, intro) : null,
    ...fields,
    errorSlot,
    h('div', { class: 'dialog-actions' }, cancel, confirm));
  const dialog = h('dialog', { 'aria-labelledby': headingId, class: 'dialog' }, form);

  const refresh = () => {
    if (canConfirm) confirm.disabled = !canConfirm();
  };
  form.addEventListener('input', refresh);
  form.addEventListener('change', refresh);
  refresh();

  let busy = false;
  const close = () => {
    if (dialog.open) dialog.close();
  };
  cancel.addEventListener('click', close);
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
    if (onClosed) onClosed();
  });
  // While the request runs, Escape must not close the dialog under it.
  dialog.addEventListener('cancel', (e) => {
    if (busy) e.preventDefault();
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy || (canConfirm && !canConfirm())) return;
    errorSlot.replaceChildren();
    const problem = validate ? validate() : null;
    if (problem) {
      errorSlot.append(h('div', { class: 'msg msg-error', role: 'alert' }, h('p', null, problem)));
      return;
    }
    busy = true;
    confirm.disabled = true;
    cancel.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      await onConfirm();
      busy = false;
      close();
    } catch (err) {
      busy = false;
      cancel.disabled = false;
      form.removeAttribute('aria-busy');
      refresh();
      if (!canConfirm) confirm.disabled = false;
      if (err && err.status === 401) {
        close();
        return;
      }
      errorSlot.append(errorBox(err));
    }
  });

  document.body.append(dialog);
  dialog.showModal();
  // Focus the first field rather than the first button.
  const first = form.querySelector('textarea, input, select');
  if (first) first.focus();
  return { dialog, close };
}
