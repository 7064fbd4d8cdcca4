/**
 * The ink components of the recovery prompts. Each is a small controlled view that reports one
 * answer through `onDone`; Esc and Ctrl+C answer "cancelled" (`undefined` or `false`).
 * Rendered only through src/ui/ink/prompter.ts, which loads lazily on a TTY.
 */
import { Box, Text, useInput } from 'ink';
import { useState } from 'react';

/** One entry of a selection list. */
export interface SelectItem {
  label: string;
  hint?: string;
}

function isCancel(input: string, key: { escape?: boolean; ctrl?: boolean }): boolean {
  return Boolean(key.escape) || (Boolean(key.ctrl) && input === 'c');
}

/** Pick one item with ↑/↓ (or j/k) and Enter; Esc or Ctrl+C cancels (`undefined`). */
export function Select({ message, items, onDone }: { message: string; items: SelectItem[]; onDone: (index: number | undefined) => void }) {
  const [index, setIndex] = useState(0);
  const [done, setDone] = useState(false);
  useInput((input, key) => {
    if (done) return;
    if (isCancel(input, key)) {
      setDone(true);
      onDone(undefined);
    } else if (key.upArrow || input === 'k') setIndex((i) => (i + items.length - 1) % items.length);
    else if (key.downArrow || input === 'j') setIndex((i) => (i + 1) % items.length);
    else if (key.return) {
      setDone(true);
      onDone(index);
    }
  });
  return (
    <Box flexDirection="column">
      <Text bold>{message}</Text>
      {items.map((item, i) => (
        <Box key={i} flexDirection="column">
          <Text color={i === index ? 'cyan' : undefined}>
            {i === index ? '❯ ' : '  '}
            {item.label}
          </Text>
          {item.hint && i === index ? <Text dimColor>{'    ' + item.hint}</Text> : null}
        </Box>
      ))}
      <Text dimColor>↑/↓ to move, Enter to choose, Esc to cancel</Text>
    </Box>
  );
}

/** A yes/no question with an optional body (the plan); `y` or Enter on "yes"... default No. Esc/Ctrl+C: false. */
export function Confirm({ message, body, onDone }: { message: string; body?: string; onDone: (yes: boolean) => void }) {
  const [done, setDone] = useState(false);
  useInput((input, key) => {
    if (done) return;
    if (isCancel(input, key) || input === 'n' || input === 'N' || key.return) {
      setDone(true);
      onDone(false);
    } else if (input === 'y' || input === 'Y') {
      setDone(true);
      onDone(true);
    }
  });
  return (
    <Box flexDirection="column">
      {body ? <Text>{body}</Text> : null}
      <Text bold>
        {message} <Text dimColor>(y/N, Esc to cancel)</Text>
      </Text>
    </Box>
  );
}

/** Type `name` exactly and press Enter to confirm a destructive action; anything else, Esc or Ctrl+C: false. */
export function TypeName({ message, name, onDone }: { message: string; name: string; onDone: (ok: boolean) => void }) {
  const [value, setValue] = useState('');
  const [done, setDone] = useState(false);
  useInput((input, key) => {
    if (done) return;
    if (isCancel(input, key)) {
      setDone(true);
      onDone(false);
    } else if (key.return) {
      setDone(true);
      onDone(value === name);
    } else if (key.backspace || key.delete) setValue((v) => v.slice(0, -1));
    else if (input && !key.ctrl && !key.meta) setValue((v) => v + input);
  });
  return (
    <Box flexDirection="column">
      <Text bold>{message}</Text>
      <Text>
        <Text color="red">{'> '}</Text>
        {value}
        {done ? '' : '█'}
      </Text>
      <Text dimColor>Enter to confirm, Esc to cancel</Text>
    </Box>
  );
}
