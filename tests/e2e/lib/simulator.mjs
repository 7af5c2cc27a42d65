// The decision simulator's form (#/simulate) as the contract labels it.
const SELECTS = new Set(['Actor type', 'Change type', 'Environment', 'Highest severity']);

// Fills the form from {label: value}: booleans tick checkboxes, the four
// selects are chosen by value or label, the rest is typed.
export async function fillSimulator(page, form) {
  for (const [label, value] of Object.entries(form)) {
    const control = page.getByLabel(label, { exact: true });
    if (typeof value === 'boolean') await control.setChecked(value);
    else if (SELECTS.has(label)) await control.selectOption(value);
    else await control.fill(value);
  }
}

export async function simulate(page, form) {
  await fillSimulator(page, form);
  await page.getByRole('button', { name: 'Simulate', exact: true }).click();
}
