// The approval detail page (#/approvals/<id>) as the contract names it.
import { assert, count, hasText, hidden, visible } from './expect.mjs';

export const ACTIONS = [
  ['approve', 'Approve'],
  ['reject', 'Reject'],
  ['request_changes', 'Request changes'],
  ['escalate', 'Escalate'],
  ['delegate', 'Delegate'],
];

export const actionButton = (page, name) => page.getByRole('button', { name, exact: true });

// Opens the approval and waits until its state is shown.
export async function openApproval(ui, page, id) {
  await ui.goto(page, `#/approvals/${id}`, `Approval ${id}`);
  return hasText(page.getByTestId('approval-state'), /^(pending|escalated|changes_requested|approved|rejected|blocked)$/);
}

// The content under an h2: the heading's parent element (the section it
// heads).
export function section(page, name) {
  const heading = page.getByRole('heading', { level: 2, name, exact: true });
  return heading.locator('xpath=..');
}

// Takes an action through its button and dialog; waits for the dialog to
// close and the state to become `expectState`.
export async function act(page, buttonName, rationale, expectState, { delegateTo } = {}) {
  await actionButton(page, buttonName).click();
  const dialog = await visible(page.getByRole('dialog'));
  await dialog.getByLabel('Rationale', { exact: true }).fill(rationale);
  if (delegateTo) await dialog.getByLabel('Delegate to', { exact: true }).selectOption(delegateTo);
  await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
  await hidden(page.getByRole('dialog'));
  await hasText(page.getByTestId('approval-state'), expectState);
}

// Each action button is shown exactly when the server lists the action in
// your_actions for this principal.
export async function buttonsMatchYourActions(page, yourActions) {
  for (const [action, name] of ACTIONS) {
    await count(actionButton(page, name), yourActions.includes(action) ? 1 : 0);
    if (yourActions.includes(action)) assert.ok(await actionButton(page, name).isVisible(), `${name} is visible`);
  }
}
