import { Field, Float, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum ExperimentStatus {
  RUNNING = 'RUNNING',
  PROMOTED = 'PROMOTED',
  ABORTED = 'ABORTED',
}
registerEnumType(ExperimentStatus, { name: 'ExperimentStatus' });

export enum ExperimentArmRole {
  /** The version that was ACTIVE when the experiment started. */
  CONTROL = 'CONTROL',
  CANARY = 'CANARY',
}
registerEnumType(ExperimentArmRole, { name: 'ExperimentArmRole' });

@ObjectType('ExperimentArm', { description: "One arm: the version whose number answers carry as `modelVersion`." })
export class ExperimentArmModel {
  @Field(() => ExperimentArmRole) role!: ExperimentArmRole;
  @Field(() => Int) version!: number;
  @Field(() => Float, { description: 'Its share of the users (drawn by a hash of their id)' }) traffic!: number;
}

@ObjectType('Experiment')
export class ExperimentModel {
  @Field(() => Int) id!: number;
  @Field(() => ExperimentStatus) status!: ExperimentStatus;
  @Field(() => Float, { description: "The canary's share of the users" }) traffic!: number;
  @Field(() => Int) controlVersion!: number;
  @Field(() => Int) canaryVersion!: number;
  @Field(() => [ExperimentArmModel]) arms!: ExperimentArmModel[];
  @Field() startedAt!: Date;
  @Field(() => Date, { nullable: true }) endedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'Why it ended: promoted, aborted, or the version that replaced it' })
  endedReason!: string | null;
}
