import { FragmentDefinitionNode, GraphQLError, Kind, SelectionSetNode, ValidationRule } from 'graphql';

/** A root field reads Redis or Postgres, or decodes: it counts as this many plain fields. */
export const ROOT_FIELD_COST = 25;
/** The most a document may cost: ~19 root fields, or one with ~475 selected fields. */
export const MAX_COMPLEXITY = 500;

/**
 * Every resolver bounds its own work (limit, ids, batch sizes), so what a request could multiply
 * without end is the number of fields it selects: aliases of one expensive root field, or
 * fragments spread many times. This rule counts the selected fields of each operation, fragments
 * expanded, root fields at ROOT_FIELD_COST, and refuses the document above `max`. It depends on
 * the document only, never on variables, so Mercurius may cache its verdict per query string.
 * Introspection (`__schema`, `__type`) is not counted: its size is the schema's.
 */
export function complexityLimit(max = MAX_COMPLEXITY): ValidationRule {
  return (context) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);

    const cost = (set: SelectionSetNode, weight: number, spreading: Set<string>): number => {
      let total = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (sel.name.value.startsWith('__')) continue;
          total += weight + (sel.selectionSet ? cost(sel.selectionSet, 1, spreading) : 0);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          total += cost(sel.selectionSet, weight, spreading);
        } else {
          const fragment = fragments.get(sel.name.value);
          // an unknown or cyclic fragment is the spec rules' error to report
          if (!fragment || spreading.has(fragment.name.value)) continue;
          spreading.add(fragment.name.value);
          total += cost(fragment.selectionSet, weight, spreading);
          spreading.delete(fragment.name.value);
        }
        // stop early: a hostile document need not be walked to its end
        if (total > max) return total;
      }
      return total;
    };

    return {
      OperationDefinition(node) {
        const total = cost(node.selectionSet, ROOT_FIELD_COST, new Set());
        if (total > max) {
          context.reportError(new GraphQLError(`Query too complex: it costs more than ${max} (a root field counts ${ROOT_FIELD_COST}, any other field 1)`, { nodes: [node] }));
        }
      },
    };
  };
}
