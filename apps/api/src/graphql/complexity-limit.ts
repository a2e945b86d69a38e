import {
  FragmentDefinitionNode,
  getNamedType,
  GraphQLCompositeType,
  GraphQLError,
  GraphQLField,
  GraphQLSchema,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isIntrospectionType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  GraphQLOutputType,
  Kind,
  OperationTypeNode,
  SchemaMetaFieldDef,
  SelectionSetNode,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  ValidationRule,
} from 'graphql';

/** A field that reads Redis or Postgres (a root field, user.interactions): this many plain fields. */
export const QUERY_COST = 25;
/** A field that may decode the catalogue on a scoring thread (recommendations, userAnomaly, ...). */
export const DECODE_COST = 75;
/** The most a document may cost: e.g. 6 decoding fields, or 20 reads, or one with ~475 selected fields. */
export const MAX_COMPLEXITY = 500;

/**
 * The cost of a document, before anything runs. A field costs its weight (declared on the resolver
 * with Nest's `complexity` option, else QUERY_COST for a root field and 1 for any other) plus its
 * selections; aliases and fragment spreads count each time they select. Introspection counts too:
 * `__schema` and `__type` as root fields, and each introspection list (types, fields, args, ...)
 * multiplies its selections by the longest such list this schema has, which is what it returns.
 *
 * Home-made rather than graphql-query-complexity: that rule coerces the request's variables, so it
 * must be built per request, and Mercurius refuses per-request rules while its query cache is on
 * (MER_ERR_INVALID_OPTS). This one reads the document only, so Mercurius caches its verdict per query.
 */
export function complexityLimit(max = MAX_COMPLEXITY): ValidationRule {
  const fanOuts = new WeakMap<GraphQLSchema, Map<string, number>>();
  return (context) => {
    const schema = context.getSchema();
    const lists = fanOuts.get(schema) ?? introspectionListSizes(schema);
    fanOuts.set(schema, lists);
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions)
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);

    const cost = (set: SelectionSetNode, type: GraphQLCompositeType, root: boolean, spreading: Set<string>): number => {
      let total = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          const field = fieldOf(type, sel.name.value, root);
          // an unknown field is the spec rules' error to report
          if (!field) continue;
          const weight =
            typeof field.extensions.complexity === 'number'
              ? field.extensions.complexity
              : root || isMetaRoot(field)
                ? QUERY_COST
                : 1;
          const child = getNamedType(field.type);
          const inner =
            sel.selectionSet && isCompositeType(child) ? cost(sel.selectionSet, child, false, spreading) : 0;
          const times =
            isIntrospectionType(type) && isList(field.type) ? (lists.get(`${type.name}.${field.name}`) ?? 1) : 1;
          total += weight + times * inner;
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          const on = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : type;
          if (on && isCompositeType(on)) total += cost(sel.selectionSet, on, root, spreading);
        } else {
          const fragment = fragments.get(sel.name.value);
          // an unknown or cyclic fragment is the spec rules' error to report
          if (!fragment || spreading.has(fragment.name.value)) continue;
          const on = schema.getType(fragment.typeCondition.name.value);
          if (!on || !isCompositeType(on)) continue;
          spreading.add(fragment.name.value);
          total += cost(fragment.selectionSet, on, root, spreading);
          spreading.delete(fragment.name.value);
        }
        // stop early: a hostile document need not be walked to its end
        if (total > max) return total;
      }
      return total;
    };

    return {
      OperationDefinition(node) {
        const rootType =
          node.operation === OperationTypeNode.MUTATION
            ? schema.getMutationType()
            : node.operation === OperationTypeNode.SUBSCRIPTION
              ? schema.getSubscriptionType()
              : schema.getQueryType();
        if (!rootType) return;
        const total = cost(node.selectionSet, rootType, true, new Set());
        if (total > max) {
          context.reportError(
            new GraphQLError(
              `Query too complex: it costs more than ${max} (a field that reads a store counts ${QUERY_COST}, one that decodes ${DECODE_COST}, ` +
                'any other 1, introspection lists by their length; aliases and fragments count each time)',
              { nodes: [node], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
            ),
          );
        }
      },
    };
  };
}

function fieldOf(type: GraphQLCompositeType, name: string, root: boolean): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (root && name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
  if (root && name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  return isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
}

const isMetaRoot = (field: GraphQLField<unknown, unknown>) =>
  field === SchemaMetaFieldDef || field === TypeMetaFieldDef;

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/** The longest list each introspection field returns in this schema: `__Schema.types` is every type, and so on. */
function introspectionListSizes(schema: GraphQLSchema): Map<string, number> {
  const named = Object.values(schema.getTypeMap());
  const directives = schema.getDirectives();
  const most = (sizes: number[]) => Math.max(1, ...sizes);
  const withFields = named.filter((t) => isObjectType(t) || isInterfaceType(t));
  const args = most([
    ...withFields.flatMap((t) => Object.values(t.getFields()).map((f) => f.args.length)),
    ...directives.map((d) => d.args.length),
  ]);
  return new Map([
    ['__Schema.types', named.length],
    ['__Schema.directives', most([directives.length])],
    ['__Type.fields', most(withFields.map((t) => Object.keys(t.getFields()).length))],
    ['__Type.inputFields', most(named.filter(isInputObjectType).map((t) => Object.keys(t.getFields()).length))],
    ['__Type.enumValues', most(named.filter(isEnumType).map((t) => t.getValues().length))],
    ['__Type.interfaces', most(withFields.map((t) => t.getInterfaces().length))],
    ['__Type.possibleTypes', most(named.filter(isAbstractType).map((t) => schema.getPossibleTypes(t).length))],
    ['__Field.args', args],
    ['__Directive.args', args],
    ['__Directive.locations', most(directives.map((d) => d.locations.length))],
  ]);
}
