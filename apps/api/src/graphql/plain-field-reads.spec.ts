import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  Field,
  FieldMiddleware,
  GraphQLModule,
  GraphQLSchemaHost,
  Int,
  ObjectType,
  Parent,
  Query,
  ResolveField,
  Resolver,
  TypeMetadataStorage,
} from '@nestjs/graphql';
import { MercuriusDriver, MercuriusDriverConfig } from '@nestjs/mercurius';
import { GraphQLObjectType, GraphQLSchema } from 'graphql';
import { reliesOn } from '@app/testing';
import { PlainFieldReads } from './plain-field-reads';

const shout: FieldMiddleware = async (_context, next) => String(await next()).toUpperCase();

@ObjectType()
class Shelf {
  @Field() label!: string;
  @Field(() => Int, { name: 'itemCount' }) count!: number;
  @Field({ nullable: true, defaultValue: 'none' }) note?: string;
  @Field({ middleware: [shout] }) title!: string;
  @Field(() => Int) size!: number;
}

@ObjectType()
class TallShelf extends Shelf {
  @Field(() => Int) height!: number;
}

@Resolver(() => Shelf)
class ShelfResolver {
  @Query(() => Shelf)
  shelf(): Partial<Shelf> {
    return { label: 'oak', count: 3, title: 'books' };
  }

  @Query(() => TallShelf)
  tallShelf(): Partial<TallShelf> {
    return { label: 'pine', count: 5, title: 'maps', size: 7, height: 2 };
  }

  @ResolveField(() => Int)
  size(@Parent() shelf: Shelf): number {
    return shelf.count * 10;
  }
}

const QUERY = '{ shelf { label itemCount note title size } tallShelf { label itemCount note title size height } }';
const ANSWER = {
  shelf: { label: 'oak', itemCount: 3, note: 'none', title: 'BOOKS', size: 30 },
  // the @ResolveField is Shelf's; TallShelf's size is its property
  tallShelf: { label: 'pine', itemCount: 5, note: 'none', title: 'MAPS', size: 7, height: 2 },
};

/** A Nest app of Shelf's schema as api.module.ts builds its own: Mercurius, graphql-jit after one run. */
async function shelfApp(transform: boolean, seen: { resolvers?: unknown } = {}): Promise<NestFastifyApplication> {
  const reads = new PlainFieldReads();
  const module = await Test.createTestingModule({
    imports: [
      GraphQLModule.forRoot<MercuriusDriverConfig>({
        driver: MercuriusDriver,
        autoSchemaFile: true,
        jit: 1,
        ...(transform && {
          transformResolvers: (resolvers) => {
            seen.resolvers = resolvers;
            return reads.noteResolvers(resolvers);
          },
          transformSchema: reads.apply,
        }),
      }),
    ],
    providers: [ShelfResolver],
  }).compile();
  const app = module.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

async function ask(app: NestFastifyApplication): Promise<unknown> {
  const res = await app.inject({ method: 'POST', url: '/graphql', payload: { query: QUERY } });
  return res.json();
}

const fields = (schema: GraphQLSchema, type: string) => (schema.getType(type) as GraphQLObjectType).getFields();
const withoutResolver = (schema: GraphQLSchema, type: string) =>
  Object.values(fields(schema, type))
    .filter((f) => !f.resolve)
    .map((f) => f.name)
    .sort();

describe(PlainFieldReads.name, () => {
  let app: NestFastifyApplication;
  let plain: NestFastifyApplication;
  const seen: { resolvers?: unknown } = {};

  beforeAll(async () => {
    app = await shelfApp(true, seen);
    plain = await shelfApp(false);
  });
  afterAll(async () => {
    await app.close();
    await plain.close();
  });

  it("answers every field as Nest's own resolvers do, interpreted and compiled", async () => {
    expect(await ask(plain)).toEqual({ data: ANSWER });
    expect(await ask(app)).toEqual({ data: ANSWER }); // first run: graphql-js
    expect(await ask(app)).toEqual({ data: ANSWER }); // then compiled by graphql-jit
  });

  it('drops the resolvers of plain property reads only, inherited fields included', () => {
    const schema = app.get(GraphQLSchemaHost).schema;
    expect(withoutResolver(schema, 'Shelf')).toEqual(['label']);
    expect(withoutResolver(schema, 'TallShelf')).toEqual(['height', 'label', 'size']);
    expect(withoutResolver(schema, 'Query')).toEqual([]);
  });

  it('refuses to run without the resolvers Nest hands over first', () => {
    expect(() => new PlainFieldReads().apply(new GraphQLSchema({}))).toThrow(/transformResolvers/);
  });

  const NEST = '@nestjs/graphql';
  const FILE = 'plain-field-reads.ts';

  it(
    'relies on transformResolvers receiving every field a resolver class answers, before transformSchema',
    reliesOn(
      NEST,
      FILE,
      'GqlModuleOptions.transformResolvers gets a { Type: { field: resolver } } map of queries and @ResolveField fields, before transformSchema runs',
      () => {
        // one map or several (IResolvers | IResolvers[])
        const maps = [seen.resolvers].flat() as Array<Record<string, Record<string, unknown>>>;
        const fieldsOf = (type: string) => maps.flatMap((map) => Object.keys(map[type] ?? {})).sort();
        expect(fieldsOf('Query')).toEqual(['shelf', 'tallShelf']);
        expect(fieldsOf('Shelf')).toEqual(['size']);
      },
    ),
  );

  it(
    'relies on TypeMetadataStorage describing each @Field',
    reliesOn(
      NEST,
      FILE,
      'TypeMetadataStorage.getObjectTypesMetadata() lists each object type by GraphQL name, its properties with name, schemaName, options.defaultValue and middleware',
      () => {
        const shelf = TypeMetadataStorage.getObjectTypesMetadata().find((t) => t.name === 'Shelf');
        expect(shelf?.target).toBe(Shelf);
        const byName = Object.fromEntries((shelf?.properties ?? []).map((p) => [p.schemaName, p]));
        expect(byName.label).toMatchObject({ name: 'label', schemaName: 'label' });
        expect(byName.itemCount).toMatchObject({ name: 'count', schemaName: 'itemCount' });
        expect(byName.note.options.defaultValue).toBe('none');
        expect(byName.title.middleware).toEqual([shout]);
        expect(TypeMetadataStorage.getObjectTypeMetadataByTarget(TallShelf)?.name).toBe('TallShelf');
      },
    ),
  );

  it(
    "relies on Nest's resolver of a plain @Field reading the property and nothing else",
    reliesOn(
      NEST,
      FILE,
      "the resolver Nest builds for a @Field without middleware or defaultValue returns root[property name], as graphql's default resolver does",
      () => {
        const label = fields(plain.get(GraphQLSchemaHost).schema, 'Shelf').label;
        expect(label.resolve?.({ label: 'elm' }, {}, {}, {} as never)).toBe('elm');
        expect(label.resolve?.({}, {}, {}, {} as never)).toBeUndefined();
      },
    ),
  );
});
