// The rollout pages (#/rollouts, #/rollouts/<id>) as the contract names them.
import { assert, count, hasText, hidden, visible } from './expect.mjs';
import { section } from './approval-page.mjs';

export { section };

// [action of POST /v1/rollouts/{id}/{action} and of may.rollout_overrides, button]
export const ROLLOUT_ACTIONS = [
  ['pause', 'Pause'],
  ['resume', 'Resume'],
  ['promote', 'Promote'],
  ['skip_step', 'Skip step'],
  ['abort', 'Abort'],
];

export const actionButton = (page, name) => page.getByRole('button', { name, exact: true });

// The state as the page writes it: "rolled_back" as "rolled back".
export const stateText = (state) => state.replaceAll('_', ' ');

// Opens the rollout and waits until its state is shown; returns that state.
export async function openRollout(ui, page, id) {
  await ui.goto(page, `#/rollouts/${id}`, `Rollout ${id}`);
  return hasText(page.getByTestId('rollout-state'), /^(progressing|paused|promoted|rolled back|aborted)$/);
}

// The row of a check in the Checks table, by the check's name.
export function checkRow(page, name) {
  return section(page, 'Checks').getByRole('row').filter({ has: page.getByText(name, { exact: true }) });
}

// Takes an action through its button and the rationale dialog; waits for
// the dialog to close and the state to become `expectState` (in words).
export async function steer(page, buttonName, rationale, expectState) {
  await actionButton(page, buttonName).click();
  const dialog = await visible(page.getByRole('dialog'));
  await dialog.getByLabel('Rationale', { exact: true }).fill(rationale);
  await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
  await hidden(page.getByRole('dialog'));
  await hasText(page.getByTestId('rollout-state'), expectState);
}

// Whether an action fits a rollout's state (the server refuses the others with 409).
function fits(action, state) {
  if (['promoted', 'rolled_back', 'aborted'].includes(state)) return false;
  if (action === 'pause' || action === 'skip_step') return state === 'progressing';
  if (action === 'resume') return state === 'paused';
  return true;
}

// Each action button is shown exactly when /v1/me's may.rollout_overrides
// allows the action and it fits the rollout's state. Returns the buttons shown.
export async function buttonsMatchMay(page, may, state) {
  const shown = [];
  for (const [action, name] of ROLLOUT_ACTIONS) {
    const expected = Boolean(may[action]) && fits(action, state);
    await count(actionButton(page, name), expected ? 1 : 0);
    if (expected) {
      assert.ok(await actionButton(page, name).isVisible(), `${name} is visible`);
      shown.push(name);
    }
  }
  return shown;
}
