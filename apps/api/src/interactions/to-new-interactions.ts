import { NewInteraction } from '@app/database';
import { InteractionInput } from './dto/interaction.input';

/** A validated batch (RecordInteractionsArgs' rules) as the repository writes it. */
export function toNewInteractions(input: InteractionInput[]): NewInteraction[] {
  return input.map((e) => ({
    userId: e.userId,
    itemId: e.itemId,
    type: e.type,
    weight: e.weight,
    occurredAt: e.occurredAt ?? null,
    eventId: e.eventId ?? null,
  }));
}
