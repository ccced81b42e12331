import { Column, Entity, Index, JoinColumn, ManyToOne, OneToMany, PrimaryGeneratedColumn, Unique, type Relation } from 'typeorm';

/** Length of the clientId column. */
export const MAX_CLIENT_ID_LENGTH = 200;

/** A client registration's CORS part: the client and whether it is enabled. */
@Entity({ name: 'cors_clients' })
export class CorsClientEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: MAX_CLIENT_ID_LENGTH, unique: true })
  clientId!: string;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @OneToMany(() => CorsClientOriginEntity, (origin) => origin.client)
  origins?: Relation<CorsClientOriginEntity[]>;
}

/**
 * One allowed CORS origin of one client, stored in the browser's serialization so that a request's
 * Origin header matches it by equality; indexed on origin for the one-query policy lookup.
 */
@Entity({ name: 'cors_client_origins' })
@Unique('UQ_cors_client_origins_client_origin', ['client', 'origin'])
export class CorsClientOriginEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @ManyToOne(() => CorsClientEntity, (client) => client.origins, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'client_id' })
  client!: Relation<CorsClientEntity>;

  @Index('IDX_cors_client_origins_origin')
  @Column({ type: 'varchar', length: 300 })
  origin!: string;
}

/** The entities to add to your DataSource's (or TypeOrmModule's) `entities`. */
export const CORS_TYPEORM_ENTITIES = [CorsClientEntity, CorsClientOriginEntity] as const;
