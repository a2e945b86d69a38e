import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { AdminGuard } from './admin.guard';

export const ADMIN_ONLY = 'recoder:admin-only';
/** Put at the start of every admin field's description, so the schema itself tells clients (and tests) which they are. */
export const ADMIN_ONLY_NOTE = 'Admin only (Authorization: Bearer <ADMIN_API_KEY>).';

export const AdminOnly = () => applyDecorators(SetMetadata(ADMIN_ONLY, true), UseGuards(AdminGuard));
